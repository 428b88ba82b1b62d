#!/usr/bin/env node
// Packs every publishable package under packages/ exactly as `pnpm publish` would (pnpm pack, which
// also rewrites `workspace:` ranges) and checks what users would download:
// - only the built bundles and declarations, package.json, README.md and CHANGELOG.md; no sources,
//   tests, source maps, data sets, images, training outputs or build caches;
// - every file the manifest points at (main, module, types, typesVersions, exports, bin) is packed;
// - no `workspace:` range is left in the packed manifest;
// - model weights (embedded as base64 in the bundles) only where they belong: the generator's
//   checkpoint in @emofeedback/core, the local evaluators' heads in @emofeedback/reward, none
//   anywhere else;
// - each tarball stays under its size budget.
// Usage: node scripts/check-pack.mjs [--verbose]     (run `pnpm build` first)
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const verbose = process.argv.includes('--verbose');
const rootManifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const pnpm = ['-y', rootManifest.packageManager ?? 'pnpm'];

/** Files a package may ship. */
const ALLOWED = [
  /^package\.json$/,
  /^README\.md$/,
  /^CHANGELOG\.md$/,
  /^LICENSE(\.md)?$/,
  /^dist\/[\w./-]+\.(js|cjs|d\.ts|d\.cts)$/,
];
/** Files every package must ship. */
const REQUIRED = ['package.json', 'README.md', 'CHANGELOG.md'];
/** Why a file that is not allowed is there, for the error message. */
const REASONS = [
  [/\.map$/, 'source map (the bundles carry no maps; sources are not shipped)'],
  [/(^|\/)(test|tests|__tests__)\/|\.(test|spec)\.[cm]?[jt]s$/, 'test file'],
  [/(^|\/)src\//, 'source file'],
  [/\.(csv|tsv|jsonl|npy|bin|safetensors|tfrecord)$/, 'data set or raw weights'],
  [/\.(png|jpe?g|gif|webp|bmp)$/, 'image'],
  [/(^|\/)(runs|results|training|data|fixtures|artifacts|coverage)\//, 'run output, training or test data'],
  [/\.tsbuildinfo$|(^|\/)node_modules\//, 'build cache or dependency'],
];

/**
 * Model weights are embedded in the bundles as long base64 strings. Only these packages may carry
 * them, and they must carry at least this many distinct ones.
 */
const WEIGHTS = {
  '@emofeedback/core': { min: 1, what: 'the generator checkpoint' },
  '@emofeedback/reward': { min: 2, what: 'the local evaluator and judge heads' },
};
const EMBEDDED_BASE64 = /[A-Za-z0-9+/]{20000,}={0,2}/g;

/** Packed (gzip) size budgets in bytes. */
const BUDGET = { '@emofeedback/core': 4_000_000, '@emofeedback/reward': 2_500_000 };
const DEFAULT_BUDGET = 500_000;

function manifestTargets(manifest) {
  const out = new Set();
  const visit = (value) => {
    if (typeof value === 'string') {
      if (value.startsWith('./') && !value.includes('*')) out.add(value.slice(2));
    } else if (Array.isArray(value)) value.forEach(visit);
    else if (value && typeof value === 'object') Object.values(value).forEach(visit);
  };
  for (const field of ['main', 'module', 'types', 'typings']) {
    const v = manifest[field];
    if (typeof v === 'string') out.add(v.replace(/^\.\//, ''));
  }
  visit(manifest.exports);
  visit(manifest.typesVersions);
  const bins = typeof manifest.bin === 'string' ? [manifest.bin] : Object.values(manifest.bin ?? {});
  for (const v of bins) if (typeof v === 'string') out.add(v.replace(/^\.\//, ''));
  return [...out];
}

const packagesDir = join(root, 'packages');
const dirs = readdirSync(packagesDir)
  .map((name) => join(packagesDir, name))
  .filter((dir) => existsSync(join(dir, 'package.json')))
  .sort();

const work = mkdtempSync(join(tmpdir(), 'emofeedback-pack-'));
const problems = [];
const rows = [];
try {
  for (const dir of dirs) {
    const source = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    if (source.private) continue;
    const name = source.name;
    const fail = (message) => problems.push(`${name}: ${message}`);
    if (!existsSync(join(dir, 'dist'))) {
      fail('dist/ is missing: run `pnpm build` first');
      continue;
    }
    const dest = join(work, name.replace(/[@/]/g, '_'));
    const json = execFileSync('npx', [...pnpm, 'pack', '--pack-destination', dest, '--json'], {
      cwd: dir,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const packed = JSON.parse(json.slice(json.indexOf('{')));
    const files = packed.files.map((f) => f.path).sort();
    const tarball = resolve(dest, packed.filename);
    const unpackDir = join(dest, 'unpacked');
    execFileSync('mkdir', ['-p', unpackDir]);
    execFileSync('tar', ['-xzf', tarball, '-C', unpackDir]);
    const pkgRoot = join(unpackDir, 'package');
    const manifest = JSON.parse(readFileSync(join(pkgRoot, 'package.json'), 'utf8'));

    for (const file of files) {
      if (ALLOWED.some((re) => re.test(file))) continue;
      const reason = REASONS.find(([re]) => re.test(file))?.[1] ?? 'not a bundle, declaration or readme';
      fail(`ships ${file} (${reason})`);
    }
    for (const file of REQUIRED) if (!files.includes(file)) fail(`does not ship ${file}`);
    for (const target of manifestTargets(manifest))
      if (!files.includes(target)) fail(`package.json points at ${target}, which is not packed`);
    for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies'])
      for (const [dep, range] of Object.entries(manifest[field] ?? {}))
        if (String(range).startsWith('workspace:')) fail(`${field}.${dep} is still ${range}`);
    if (manifest.version !== source.version) fail(`packed version ${manifest.version} ≠ ${source.version}`);

    const embedded = new Set();
    for (const file of files.filter((f) => /\.(js|cjs)$/.test(f)))
      for (const m of readFileSync(join(pkgRoot, file), 'utf8').matchAll(EMBEDDED_BASE64))
        embedded.add(m[0].length);
    const expected = WEIGHTS[name];
    if (expected && embedded.size < expected.min)
      fail(
        `carries ${embedded.size} embedded weight blobs, expected ${expected.what} (at least ${expected.min})`,
      );
    if (!expected && embedded.size > 0)
      fail(
        `carries ${embedded.size} embedded weight blobs (${[...embedded].join(', ')} characters), which belong elsewhere`,
      );

    const size = readFileSync(tarball).length;
    const budget = BUDGET[name] ?? DEFAULT_BUDGET;
    if (size > budget) fail(`tarball is ${size} bytes, over its budget of ${budget}`);
    rows.push({
      name,
      version: manifest.version,
      files: files.length,
      weights: embedded.size,
      kB: Math.round(size / 1000),
    });
    if (verbose) for (const file of files) console.log(`  ${name}  ${file}`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

console.table(rows);
if (rows.length === 0) problems.push('no publishable package found under packages/');
if (problems.length > 0) {
  for (const p of problems) console.error(`✗ ${p}`);
  process.exit(1);
}
console.log(`packed file lists OK (${rows.length} packages)`);
