import * as tf from '@tensorflow/tfjs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The Q-network: an MLP from the flat observation to one Q-value per flat action, optionally with
 * a dueling head. Saved in the TensorFlow.js layers format (model.json + weights.bin) with plain
 * fs, so that neither training nor a gateway needs tfjs-node.
 */

export interface QNetSpec {
  obsSize: number;
  nActions: number;
  /** Hidden widths, ReLU each. */
  hidden: readonly number[];
  /** Q = V + A − mean A (Wang et al. 2016) instead of one linear layer. */
  dueling: boolean;
}

/**
 * Joins the dueling streams: Q(s, a) = V(s) + A(s, a) − mean_a A(s, a). Subtracting the mean makes
 * V and A identifiable. Inputs [V (n × 1), A (n × nActions)]. Registered for serialisation, so a
 * runtime that reads model.json must know this one layer besides Dense.
 */
export class DuelingCombine extends tf.layers.Layer {
  static className = 'DuelingCombine';

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return (inputShape as tf.Shape[])[1];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const [v, a] = inputs as tf.Tensor[];
      return tf.add(v, tf.sub(a, tf.mean(a, -1, true)));
    });
  }
}
tf.serialization.registerClass(DuelingCombine);

/**
 * Builds the network. Kernels are Glorot-uniform (the Keras default) drawn from `random` (uniform in
 * [0, 1)), biases zero: the caller's seeded generator is the only randomness, and models/ may not
 * import env/'s Rng.
 */
export function buildQNet(spec: QNetSpec, random: () => number, name = 'qnet'): tf.LayersModel {
  const dense = (units: number, activation: 'relu' | 'linear', layerName: string) =>
    tf.layers.dense({ units, activation, name: layerName, kernelInitializer: 'zeros', biasInitializer: 'zeros' });
  const input = tf.input({ shape: [spec.obsSize], name: 'obs' });
  let h = input;
  spec.hidden.forEach((units, i) => {
    h = dense(units, 'relu', `hidden${i + 1}`).apply(h) as tf.SymbolicTensor;
  });
  let q: tf.SymbolicTensor;
  if (spec.dueling) {
    const v = dense(1, 'linear', 'value').apply(h) as tf.SymbolicTensor;
    const a = dense(spec.nActions, 'linear', 'advantage').apply(h) as tf.SymbolicTensor;
    q = new DuelingCombine({ name: 'q' }).apply([v, a]) as tf.SymbolicTensor;
  } else {
    q = dense(spec.nActions, 'linear', 'q').apply(h) as tf.SymbolicTensor;
  }
  const model = tf.model({ inputs: input, outputs: q, name });
  const init = model.getWeights().map((w) => {
    const values = new Float32Array(w.size);
    if (w.rank === 2) {
      const [fanIn, fanOut] = w.shape as number[];
      const limit = Math.sqrt(6 / (fanIn + fanOut));
      for (let i = 0; i < values.length; i++) values[i] = (2 * random() - 1) * limit;
    }
    return tf.tensor(values, w.shape);
  });
  model.setWeights(init);
  tf.dispose(init);
  return model;
}

/**
 * Copies `from`'s weights into `to` (same architecture): a hard copy when tau = 1, else Polyak
 * averaging to ← tau·from + (1 − tau)·to.
 */
export function copyWeights(from: tf.LayersModel, to: tf.LayersModel, tau = 1): void {
  const source = from.getWeights();
  if (tau >= 1) {
    // The variables share the data (reference-counted): no copy, and nothing to dispose.
    to.setWeights(source);
    return;
  }
  const mixed = tf.tidy(() => to.getWeights().map((w, i) => tf.add(tf.mul(w, 1 - tau), tf.mul(source[i], tau))));
  to.setWeights(mixed);
  tf.dispose(mixed);
}

const bytes = (b: ArrayBuffer | ArrayBufferView): Uint8Array =>
  b instanceof ArrayBuffer ? new Uint8Array(b) : new Uint8Array(b.buffer, b.byteOffset, b.byteLength);

const arrayBuffer = (b: Buffer): ArrayBuffer => {
  const out = new ArrayBuffer(b.byteLength);
  new Uint8Array(out).set(b);
  return out;
};

/** Writes `model.json` (topology + weights manifest) and `weights.bin` into `dir`. */
export async function saveQNet(model: tf.LayersModel, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const data = tf.io.CompositeArrayBuffer.join(artifacts.weightData);
      const json: tf.io.ModelJSON = {
        modelTopology: artifacts.modelTopology as object,
        format: artifacts.format ?? 'layers-model',
        generatedBy: artifacts.generatedBy ?? `TensorFlow.js tfjs-layers v${tf.version_layers}`,
        convertedBy: null,
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs ?? [] }],
      };
      await writeFile(join(dir, 'weights.bin'), bytes(data));
      await writeFile(join(dir, 'model.json'), JSON.stringify(json));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    }),
  );
}

/** Reads a model written by `saveQNet` (or any tfjs layers-format directory). */
export async function loadQNet(dir: string): Promise<tf.LayersModel> {
  const json = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8')) as tf.io.ModelJSON;
  const weightSpecs = json.weightsManifest.flatMap((group) => group.weights);
  const buffers = await Promise.all(json.weightsManifest.flatMap((group) => group.paths).map(async (p) => arrayBuffer(await readFile(join(dir, p)))));
  return tf.loadLayersModel(
    tf.io.fromMemory({ modelTopology: json.modelTopology, format: json.format, generatedBy: json.generatedBy, weightSpecs, weightData: tf.io.CompositeArrayBuffer.join(buffers) }),
  );
}

/** An optimiser weight, as `Optimizer.getWeights()` lists them. */
export interface NamedTensor {
  name: string;
  tensor: tf.Tensor;
}

/** Writes named tensors (an optimiser's state) as `<base>.json` (manifest) and `<base>.bin`. */
export async function writeTensors(base: string, tensors: NamedTensor[]): Promise<void> {
  const { data, specs } = await tf.io.encodeWeights(tensors);
  await writeFile(`${base}.bin`, bytes(data));
  await writeFile(`${base}.json`, JSON.stringify(specs));
}

/** Reads what `writeTensors` wrote, in the same order. The caller owns the tensors. */
export async function readTensors(base: string): Promise<NamedTensor[]> {
  const specs = JSON.parse(await readFile(`${base}.json`, 'utf8')) as tf.io.WeightsManifestEntry[];
  const map = tf.io.decodeWeights(arrayBuffer(await readFile(`${base}.bin`)), specs);
  return specs.map((s) => ({ name: s.name, tensor: map[s.name] }));
}
