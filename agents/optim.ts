import * as tf from '@tensorflow/tfjs';

/** The optimiser's pieces DQN needs that tfjs does not give: PyTorch's gradient clipping, and Adam's exact resume. */

/** PyTorch's clip_grad_norm_: scale all gradients by min(1, max / (‖g‖ + 1e-6)). */
export function clipByGlobalNorm(grads: tf.NamedTensorMap, maxNorm: number): { name: string; tensor: tf.Tensor }[] {
  const names = Object.keys(grads);
  const norm = tf.sqrt(tf.addN(names.map((k) => tf.sum(tf.square(grads[k])))));
  const scale = tf.minimum(1, tf.div(maxNorm, tf.add(norm, 1e-6)));
  return names.map((name) => ({ name, tensor: tf.mul(grads[name], scale) }));
}

/**
 * Adam's β₁ᵗ and β₂ᵗ as training accumulated them, one float32 product per update (tfjs keeps them
 * private): its setWeights recomputes them as a power, which rounds otherwise, and a resumed run
 * drifted from one that never stopped.
 */
export function restoreBetaPowers(optimizer: tf.AdamOptimizer): void {
  const o = optimizer as unknown as { accBeta1: tf.Variable; accBeta2: tf.Variable; beta1: number; beta2: number; iterations: number };
  const product = (beta: number) => {
    const b = Math.fround(beta);
    let v = b;
    for (let k = 0; k < o.iterations; k++) v = Math.fround(v * b);
    return v;
  };
  tf.tidy(() => {
    o.accBeta1.assign(tf.scalar(product(o.beta1)));
    o.accBeta2.assign(tf.scalar(product(o.beta2)));
  });
}

