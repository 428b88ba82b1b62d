// The loopback LVLM server lives in src/testing so other packages can import it from
// '@emofeedback/reward/testing'; the tests here use it through this module.
export * from '../../src/testing/index.js';
