import * as tf from '@tensorflow/tfjs';

/*
 * Replacement kernels for the tfjs wasm backend (tfjs 4.22).
 *
 * The wasm backend lacks the gradient kernels a conv net needs to train
 * (Conv2DBackpropFilter, both depthwise gradients, UnsortedSegmentSum for embedding gradients),
 * and two of its kernels are far slower than the work they do: Conv2DBackpropInput (about 12×
 * a forward conv of the same size) and BatchMatMul with transposeA (about 14× a pre-transposed
 * operand). Each replacement is built from the backend's own fast kernels, a forward conv
 * (XNNPACK) or a matmul on contiguous operands, and checked against the cpu backend in tests.
 */

type KernelArgs = Parameters<tf.KernelFunc>[0];
type Pad = 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;

const BACKEND = 'wasm';
let registered = false;

/** Kernel names this module registers or wraps on the wasm backend. */
export const WASM_REPLACEMENT_KERNELS = [
  'Conv2DBackpropFilter',
  'Conv2DBackpropInput',
  'DepthwiseConv2dNativeBackpropFilter',
  'DepthwiseConv2dNativeBackpropInput',
  'BatchMatMul',
  'UnsortedSegmentSum',
] as const;

function asTensor4D(info: tf.TensorInfo): tf.Tensor4D {
  return info as unknown as tf.Tensor4D;
}

/** Zero-pads a NHWC tensor and, where a pad is negative, crops instead. */
function padOrCrop(x: tf.Tensor4D, top: number, bottom: number, left: number, right: number): tf.Tensor4D {
  const padded = tf.pad(x, [
    [0, 0],
    [Math.max(0, top), Math.max(0, bottom)],
    [Math.max(0, left), Math.max(0, right)],
    [0, 0],
  ]);
  if (top >= 0 && bottom >= 0 && left >= 0 && right >= 0) return padded;
  const [n, h, w, c] = padded.shape;
  const t0 = Math.max(0, -top);
  const l0 = Math.max(0, -left);
  return tf.slice(
    padded,
    [0, t0, l0, 0],
    [n, h - t0 - Math.max(0, -bottom), w - l0 - Math.max(0, -right), c],
  );
}

/** Inserts (stride − 1) zeros between the rows and the columns of a NHWC tensor. */
function dilate(x: tf.Tensor4D, sh: number, sw: number): tf.Tensor4D {
  if (sh === 1 && sw === 1) return x;
  const [n, h, w, c] = x.shape;
  const expanded = tf.reshape(x, [n, h, 1, w, 1, c]);
  const padded = tf.pad(expanded, [
    [0, 0],
    [0, 0],
    [0, sh - 1],
    [0, 0],
    [0, sw - 1],
    [0, 0],
  ]);
  const full = tf.reshape(padded, [n, h * sh, w * sw, c]) as tf.Tensor4D;
  return tf.slice(full, [0, 0, 0, 0], [n, (h - 1) * sh + 1, (w - 1) * sw + 1, c]);
}

/**
 * The (kh·kw) strided windows of a padded input, one [N, OH, OW, C] view per filter tap.
 * Every tap is a unit-stride `slice`: tfjs-wasm's `StridedSlice` walks element by element and was
 * the second-largest kernel of a training step. With stride s, the input is first split into its
 * s×s parity planes (x[:, p::s, q::s, :]) by two rank-3 reshape-transposes; tap (i, j) is then a
 * contiguous window of plane (i mod s, j mod s).
 */
function taps(xPadded: tf.Tensor4D, info: tf.backend_util.Conv2DInfo): tf.Tensor4D[] {
  const [n, h, w, c] = xPadded.shape;
  const sh = info.strideHeight;
  const sw = info.strideWidth;
  const out: tf.Tensor4D[] = [];
  if (sh === 1 && sw === 1) {
    for (let i = 0; i < info.filterHeight; i++) {
      for (let j = 0; j < info.filterWidth; j++) {
        out.push(
          tf.slice(
            xPadded,
            [0, i * info.dilationHeight, j * info.dilationWidth, 0],
            [n, info.outHeight, info.outWidth, c],
          ),
        );
      }
    }
    return out;
  }
  if (info.dilationHeight !== 1 || info.dilationWidth !== 1) return stridedTaps(xPadded, info);
  // Pad to multiples of the strides, so that every plane has the same shape.
  const hp = Math.ceil(h / sh);
  const wp = Math.ceil(w / sw);
  const even = tf.pad(xPadded, [
    [0, 0],
    [0, hp * sh - h],
    [0, wp * sw - w],
    [0, 0],
  ]);
  // [n·hp, sh, wp·sw·c] → [sh, n·hp, wp·sw·c]: row parity first.
  const rows = tf.transpose(tf.reshape(even, [n * hp, sh, wp * sw * c]), [1, 0, 2]);
  // [sh·n·hp·wp, sw, c] → [sw, sh·n·hp·wp, c]: column parity first.
  const cols = tf.transpose(tf.reshape(rows, [sh * n * hp * wp, sw, c]), [1, 0, 2]);
  // Plane (p, q) holds rows (q·sh + p)·n … + n.
  const planes = tf.reshape(cols, [sw * sh * n, hp, wp, c]) as tf.Tensor4D;
  for (let i = 0; i < info.filterHeight; i++) {
    for (let j = 0; j < info.filterWidth; j++) {
      const plane = (j % sw) * sh + (i % sh);
      out.push(
        tf.slice(
          planes,
          [plane * n, Math.floor(i / sh), Math.floor(j / sw), 0],
          [n, info.outHeight, info.outWidth, c],
        ),
      );
    }
  }
  return out;
}

/** Taps by strided slicing: the general case (stride and dilation both above 1). */
function stridedTaps(xPadded: tf.Tensor4D, info: tf.backend_util.Conv2DInfo): tf.Tensor4D[] {
  const [n, , , c] = xPadded.shape;
  const out: tf.Tensor4D[] = [];
  for (let i = 0; i < info.filterHeight; i++) {
    for (let j = 0; j < info.filterWidth; j++) {
      const top = i * info.dilationHeight;
      const left = j * info.dilationWidth;
      out.push(
        tf.stridedSlice(
          xPadded,
          [0, top, left, 0],
          [
            n,
            top + (info.outHeight - 1) * info.strideHeight + 1,
            left + (info.outWidth - 1) * info.strideWidth + 1,
            c,
          ],
          [1, info.strideHeight, info.strideWidth, 1],
        ) as tf.Tensor4D,
      );
    }
  }
  return out;
}

function conv2dBackpropFilter({ inputs, attrs }: KernelArgs): tf.Tensor {
  const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const { strides, pad, dimRoundingMode, filterShape } = attrs as unknown as {
    strides: [number, number] | number;
    pad: Pad;
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
    filterShape: [number, number, number, number];
  };
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
  );
  return tf.tidy(() => {
    const xPadded = padOrCrop(
      asTensor4D(x),
      info.padInfo.top,
      info.padInfo.bottom,
      info.padInfo.left,
      info.padInfo.right,
    );
    // im2col: one matmul [kh·kw·Cin, M] × [M, Cout] with the transpose done once, up front.
    const patches = tf.concat(taps(xPadded, info), 3);
    const m = info.batchSize * info.outHeight * info.outWidth;
    const cols = tf.transpose(tf.reshape(patches, [m, patches.shape[3]]));
    const dy2d = tf.reshape(dy as unknown as tf.Tensor, [m, info.outChannels]);
    return tf.reshape(tf.matMul(cols, dy2d), filterShape);
  });
}

function conv2dBackpropInput({ inputs, attrs }: KernelArgs): tf.Tensor {
  const { dy, filter } = inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const { strides, pad, dimRoundingMode, inputShape } = attrs as unknown as {
    strides: [number, number] | number;
    pad: Pad;
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
    inputShape: [number, number, number, number];
  };
  const info = tf.backend_util.computeConv2DInfo(
    inputShape,
    filter.shape as [number, number, number, number],
    strides,
    1,
    pad,
    dimRoundingMode,
  );
  return tf.tidy(() => {
    // dx is a stride-1 'valid' forward conv of the dilated, re-padded dy with the filter
    // flipped in space and its in/out channels swapped.
    const dilated = dilate(asTensor4D(dy), info.strideHeight, info.strideWidth);
    const kh = info.filterHeight;
    const kw = info.filterWidth;
    const top = kh - 1 - info.padInfo.top;
    const left = kw - 1 - info.padInfo.left;
    const bottom = info.inHeight + kh - 1 - dilated.shape[1] - top;
    const right = info.inWidth + kw - 1 - dilated.shape[2] - left;
    const padded = padOrCrop(dilated, top, bottom, left, right);
    const flipped = tf.transpose(tf.reverse(filter as unknown as tf.Tensor4D, [0, 1]), [0, 1, 3, 2]);
    return tf.conv2d(padded, flipped as tf.Tensor4D, 1, 'valid');
  });
}

interface DepthwiseAttrs {
  strides: [number, number] | number;
  dilations: [number, number] | number;
  pad: Pad;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

function depthwiseBackpropFilter({ inputs, attrs }: KernelArgs): tf.Tensor {
  const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const { strides, dilations, pad, dimRoundingMode, filterShape } = attrs as unknown as DepthwiseAttrs & {
    filterShape: [number, number, number, number];
  };
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    strides,
    dilations,
    pad,
    dimRoundingMode,
    true,
  );
  const [kh, kw, c, mult] = filterShape;
  return tf.tidy(() => {
    const xPadded = padOrCrop(
      asTensor4D(x),
      info.padInfo.top,
      info.padInfo.bottom,
      info.padInfo.left,
      info.padInfo.right,
    );
    const dy5 = tf.reshape(dy as unknown as tf.Tensor, [
      info.batchSize,
      info.outHeight,
      info.outWidth,
      c,
      mult,
    ]);
    const perTap = taps(xPadded, info).map((view) => tf.sum(tf.mul(tf.expandDims(view, 4), dy5), [0, 1, 2]));
    return tf.reshape(tf.stack(perTap), [kh, kw, c, mult]);
  });
}

function depthwiseBackpropInput({ inputs, attrs }: KernelArgs): tf.Tensor {
  const { dy, filter } = inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const { strides, dilations, pad, dimRoundingMode, inputShape } = attrs as unknown as DepthwiseAttrs & {
    inputShape: [number, number, number, number];
  };
  const filterShape = filter.shape as [number, number, number, number];
  const info = tf.backend_util.computeConv2DInfo(
    inputShape,
    filterShape,
    strides,
    dilations,
    pad,
    dimRoundingMode,
    true,
  );
  const [kh, kw, c, mult] = filterShape;
  return tf.tidy(() => {
    const dilated = dilate(asTensor4D(dy), info.strideHeight, info.strideWidth);
    const effH = (kh - 1) * info.dilationHeight + 1;
    const effW = (kw - 1) * info.dilationWidth + 1;
    const top = effH - 1 - info.padInfo.top;
    const left = effW - 1 - info.padInfo.left;
    const bottom = info.inHeight + effH - 1 - dilated.shape[1] - top;
    const right = info.inWidth + effW - 1 - dilated.shape[2] - left;
    const padded = padOrCrop(dilated, top, bottom, left, right);
    const flipped = tf.reverse(filter as unknown as tf.Tensor4D, [0, 1]);
    const [n, h, w] = padded.shape;
    const dy5 = tf.reshape(padded, [n, h, w, c, mult]);
    let dx: tf.Tensor4D | null = null;
    for (let m = 0; m < mult; m++) {
      const dyM = tf.reshape(tf.slice(dy5, [0, 0, 0, 0, m], [n, h, w, c, 1]), [n, h, w, c]) as tf.Tensor4D;
      const fM = tf.slice(flipped, [0, 0, 0, m], [kh, kw, c, 1]);
      const part = tf.depthwiseConv2d(dyM, fM, 1, 'valid', 'NHWC', [info.dilationHeight, info.dilationWidth]);
      dx = dx === null ? part : (tf.add(dx, part) as tf.Tensor4D);
    }
    return dx as tf.Tensor4D;
  });
}

function unsortedSegmentSum({ inputs, attrs }: KernelArgs): tf.Tensor {
  const { x, segmentIds } = inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
  const { numSegments } = attrs as unknown as { numSegments: number };
  return tf.tidy(() => {
    // A one-hot matmul: [numSegments, N] × [N, rest]. Exact for float32 sums of embedding
    // gradients and fast on wasm's matmul.
    const xT = x as unknown as tf.Tensor;
    const ids = tf.reshape(segmentIds as unknown as tf.Tensor, [-1]);
    const n = ids.shape[0] as number;
    const rest = xT.shape.slice(1);
    const flat = tf.reshape(xT, [n, -1]);
    // wasm's OneHot ignores its dtype and writes int32 bits, so build it as int32 and cast.
    const oneHot = tf.transpose(tf.cast(tf.oneHot(tf.cast(ids, 'int32'), numSegments), 'float32'));
    const summed = tf.matMul(oneHot, tf.cast(flat, 'float32'));
    return tf.cast(tf.reshape(summed, [numSegments, ...rest]), xT.dtype);
  });
}

/**
 * Registers the replacement kernels on the wasm backend. Idempotent; call before training on
 * wasm. `ready({ device: 'wasm' })` calls it for you.
 */
export function registerWasmKernels(): void {
  if (registered) return;
  registered = true;
  const replace = (kernelName: string, kernelFunc: tf.KernelFunc, keep?: tf.KernelConfig) => {
    if (tf.getKernel(kernelName, BACKEND)) tf.unregisterKernel(kernelName, BACKEND);
    // A wrapped kernel keeps its setup, which binds the wasm function when the backend starts.
    tf.registerKernel({ ...keep, kernelName, backendName: BACKEND, kernelFunc });
  };
  replace('Conv2DBackpropFilter', conv2dBackpropFilter as tf.KernelFunc);
  replace('Conv2DBackpropInput', conv2dBackpropInput as tf.KernelFunc);
  replace('DepthwiseConv2dNativeBackpropFilter', depthwiseBackpropFilter as tf.KernelFunc);
  replace('DepthwiseConv2dNativeBackpropInput', depthwiseBackpropInput as tf.KernelFunc);
  if (!tf.getKernel('UnsortedSegmentSum', BACKEND)) {
    replace('UnsortedSegmentSum', unsortedSegmentSum as tf.KernelFunc);
  }

  // BatchMatMul keeps wasm's own kernel; a transposed A is transposed once up front.
  const original = tf.getKernel('BatchMatMul', BACKEND);
  if (original) {
    const batchMatMul: tf.KernelFunc = (args) => {
      const { transposeA } = args.attrs as unknown as { transposeA: boolean; transposeB: boolean };
      if (!transposeA) return original.kernelFunc(args);
      const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
      const rank = a.shape.length;
      const perm = [...Array(rank - 2).keys(), rank - 1, rank - 2];
      const aT = tf.transpose(a as unknown as tf.Tensor, perm);
      try {
        return original.kernelFunc({
          ...args,
          inputs: { a: aT, b },
          attrs: { ...args.attrs, transposeA: false },
        });
      } finally {
        aT.dispose();
      }
    };
    replace('BatchMatMul', batchMatMul, original);
  }
}
