import * as tf from '@tensorflow/tfjs';

/**
 * Picks the TensorFlow.js backend once per process.
 *
 * WASM is the default because it installs everywhere: `@tensorflow/tfjs-backend-wasm` ships its
 * .wasm binaries inside the npm package, whereas `@tensorflow/tfjs-node` downloads libtensorflow
 * in an install script, which fails offline (and needs a prebuilt binary for the platform).
 * tfjs-node stays optional: 'auto' uses it when it happens to be installed (native TensorFlow,
 * multi-threaded), else WASM. 'cpu' is the plain-JS reference backend, the slowest.
 */

export type BackendChoice = 'auto' | 'node' | 'wasm' | 'cpu';

// A variable, so that TypeScript neither needs nor looks for tfjs-node's types.
const TFJS_NODE = '@tensorflow/tfjs-node';

let autoChoice: Promise<string> | undefined;

async function use(name: string): Promise<string> {
  if (tf.getBackend() !== name && !(await tf.setBackend(name))) throw new Error(`TensorFlow.js backend '${name}' failed to initialise`);
  await tf.ready();
  return tf.getBackend();
}

async function tryNode(): Promise<boolean> {
  try {
    // tfjs-node registers 'tensorflow' on the tfjs-core it resolves; when that is not our copy
    // (a version mismatch), the backend is missing here and we fall back.
    await import(TFJS_NODE);
    return tf.findBackendFactory('tensorflow') != null;
  } catch {
    return false;
  }
}

/**
 * tfjs-backend-wasm 4.22 multiplies a transposed operand about 3× slower than it transposes it
 * and multiplies plainly, and backprop through a dense layer asks for exactly those products
 * (dX = dY·Wᵀ, dW = Xᵀ·dY). Re-registering BatchMatMul to transpose first makes a DQN update
 * about 1.6× faster (62 → 103 updates/s in our measurement). Same products, up to rounding order.
 */
function transposeBeforeMatMul(): void {
  const original = tf.getKernel('BatchMatMul', 'wasm');
  if (!original || (original as { patched?: boolean }).patched) return;
  const transpose = tf.getKernel('Transpose', 'wasm').kernelFunc;
  const kernelFunc: tf.KernelFunc = ({ inputs, backend, attrs }) => {
    if (!attrs?.transposeA && !attrs?.transposeB) return original.kernelFunc({ inputs, backend, attrs });
    const swapLast = (x: tf.TensorInfo) => {
      const perm = x.shape.map((_, i) => i);
      perm.splice(-2, 2, perm.length - 1, perm.length - 2);
      return transpose({ inputs: { x }, backend, attrs: { perm } }) as tf.TensorInfo;
    };
    const temps: tf.TensorInfo[] = [];
    const operand = (x: tf.TensorInfo, t: unknown) => (t ? temps[temps.push(swapLast(x)) - 1] : x);
    const a = operand(inputs.a!, attrs.transposeA);
    const b = operand(inputs.b!, attrs.transposeB);
    const out = original.kernelFunc({ inputs: { a, b }, backend, attrs: { ...attrs, transposeA: false, transposeB: false } });
    for (const t of temps) (backend as tf.KernelBackend).disposeData(t.dataId);
    return out;
  };
  tf.unregisterKernel('BatchMatMul', 'wasm');
  tf.registerKernel({ ...original, kernelFunc, patched: true } as tf.KernelConfig);
}

async function wasm(): Promise<string> {
  await import('@tensorflow/tfjs-backend-wasm');
  const name = await use('wasm');
  transposeBeforeMatMul();
  return name;
}

/**
 * Selects (and initialises) a backend; returns its name ('tensorflow', 'wasm' or 'cpu').
 * Idempotent: calling it again with the same choice costs nothing and changes nothing.
 */
export async function initBackend(prefer: BackendChoice = 'auto'): Promise<string> {
  switch (prefer) {
    case 'auto':
      autoChoice ??= tryNode().then((ok) => (ok ? use('tensorflow') : wasm()));
      return use(await autoChoice);
    case 'node':
      if (!(await tryNode())) throw new Error(`backend 'node' needs ${TFJS_NODE}, which is not installed (npm install ${TFJS_NODE})`);
      return use('tensorflow');
    case 'wasm':
      return wasm();
    case 'cpu':
      return use('cpu');
  }
}
