/**
 * Model versions in TensorFlow.js layers format, done with TensorFlow.js itself (runs in the
 * model worker thread, see model-worker.ts): the model.json of a spec's network, and loading an
 * uploaded model to check it computes what the spec's network computes with the same weights.
 */
import type * as tfjs from '@tensorflow/tfjs';
import type { ModelSpec, WeightsManifest } from '../protocol';
import { datasetSplit } from '../../workers/ml/datasets';
import { evaluate } from '../../workers/ml/evaluate';
import { buildModel, dataTensors, disposeModel, modelManifest, writeWeights, type TF } from '../../workers/ml/model';
import { compareShapes, type FileWeightSpec } from './export-check';

/** The weights file every exported model.json points at, relative to model.json's own URL. */
export const WEIGHTS_FILE = 'weights.bin';

/**
 * model.json of the spec's network: the topology as `model.save` writes it, with one weights
 * group in manifest order whose path is weights.bin beside it, so `tf.loadLayersModel(url)`
 * fetches the checkpoint's float32 bytes (stored in the same order) unchanged.
 */
export async function exportModelJson(tf: TF, spec: ModelSpec): Promise<string> {
  const model = buildModel(tf, spec);
  try {
    let saved: tfjs.io.ModelArtifacts | null = null;
    await model.save(
      tf.io.withSaveHandler(async (artifacts) => {
        saved = artifacts;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    const artifacts = saved as tfjs.io.ModelArtifacts | null;
    if (!artifacts?.weightSpecs) throw new Error('model.save produced no weight specs');
    // Checkpoints store the weights in manifest order; the file must list them in that order too.
    const manifest = modelManifest(model);
    const mismatch = compareShapes(artifacts.weightSpecs, manifest, { given: 'the saved model', expected: 'the manifest' });
    if (mismatch || artifacts.weightSpecs.some((w, i) => w.name !== manifest[i]!.name || w.dtype !== 'float32')) {
      throw new Error(`model.save listed the weights differently from the manifest${mismatch ? `: ${mismatch}` : ''}`);
    }
    return JSON.stringify({
      format: artifacts.format,
      generatedBy: artifacts.generatedBy,
      convertedBy: 'cotrain',
      modelTopology: artifacts.modelTopology,
      weightsManifest: [{ paths: [WEIGHTS_FILE], weights: artifacts.weightSpecs }],
    });
  } finally {
    disposeModel(model);
  }
}

/** An uploaded model, already past the pure checks of export-check.ts. */
export interface ImportFile {
  modelTopology: object;
  weightSpecs: FileWeightSpec[];
  /** float32, in weightSpecs order. */
  weights: Float32Array;
}

export type ImportResult =
  | { ok: true; manifest: WeightsManifest; weights: Float32Array; loss: number; accuracy: number }
  | { ok: false; problem: string };

/** Outputs of two models may differ by float rounding only (summation order of the same math). */
const SAME_OUTPUT = 1e-4;

/**
 * Checks an uploaded model against the spec: every weight shape (clear error naming the tensor),
 * then that the file's network, loaded with tf.loadLayersModel, predicts what the spec's network
 * predicts with the same weights on the held-out set (so activations and layer order agree too).
 * Answers the weights under the spec's manifest and their held-out loss and accuracy.
 */
export async function importModel(tf: TF, spec: ModelSpec, file: ImportFile): Promise<ImportResult> {
  const own = buildModel(tf, spec);
  let loaded: tfjs.LayersModel | null = null;
  const tensors: tfjs.Tensor[] = [];
  try {
    const manifest = modelManifest(own);
    const mismatch = compareShapes(file.weightSpecs, manifest, { given: 'the file', expected: 'the spec' });
    if (mismatch) return { ok: false, problem: mismatch };
    writeWeights(tf, own, manifest, file.weights);

    try {
      // fromMemory takes the bytes as they are: the file's names, the file's topology.
      const data = file.weights.slice().buffer as ArrayBuffer;
      loaded = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: file.modelTopology, weightSpecs: file.weightSpecs, weightData: data }), { strict: true });
    } catch (error) {
      return { ok: false, problem: `TensorFlow.js could not load model.json: ${error instanceof Error ? error.message : String(error)}` };
    }
    const fileInput = loaded.inputs[0]?.shape.slice(1) ?? [];
    const specInput = own.inputs[0]!.shape.slice(1);
    if (fileInput.length !== specInput.length || fileInput.some((d, i) => d !== specInput[i])) {
      return { ok: false, problem: `The file's model takes inputs [${fileInput.join(',')}] but the spec's takes [${specInput.join(',')}]` };
    }

    const { x } = dataTensors(tf, spec, datasetSplit(spec.dataset).test);
    tensors.push(x);
    const ours = own.predict(x) as tfjs.Tensor;
    tensors.push(ours);
    let theirs: tfjs.Tensor;
    try {
      theirs = loaded.predict(x) as tfjs.Tensor;
    } catch (error) {
      return { ok: false, problem: `The file's model cannot run on the spec's data: ${error instanceof Error ? error.message : String(error)}` };
    }
    tensors.push(theirs);
    if (theirs.shape.join(',') !== ours.shape.join(',')) {
      return { ok: false, problem: `The file's model outputs [${theirs.shape.slice(1).join(',')}] per example but the spec's outputs [${ours.shape.slice(1).join(',')}]` };
    }
    const gap = tf.tidy(() => tf.max(tf.abs(tf.sub(ours, theirs))).dataSync()[0]!);
    if (!(gap <= SAME_OUTPUT)) {
      return {
        ok: false,
        problem: `The file's network computes something else than the spec's with the same weights (outputs differ by up to ${gap.toPrecision(3)} on the held-out set): check each layer's activation and order`,
      };
    }
    const { loss, accuracy } = await evaluate(tf, spec, manifest, file.weights);
    return { ok: true, manifest, weights: file.weights, loss, accuracy };
  } finally {
    for (const t of tensors) t.dispose();
    loaded?.dispose();
    disposeModel(own);
  }
}
