/**
 * The TensorFlow.js namespace every EmoFeedback² package uses.
 *
 * All packages import tensors from here so that an application holds exactly one tfjs engine,
 * whichever bundler or module format it uses. `@tensorflow/tfjs` brings the cpu and WebGL
 * backends, the layers and converter APIs and every gradient; wasm, WebGPU and tfjs-node are
 * added by {@link ready}.
 */
import * as tf from '@tensorflow/tfjs';

export { tf };
