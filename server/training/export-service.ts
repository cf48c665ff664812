/**
 * Model versions, the IO side: checkpoints out as TensorFlow.js layers files, uploaded files in
 * as finished runs, and a checkpoint's weights as the start of a new run. The checks live in
 * export-check.ts (pure) and model-export.ts (TensorFlow.js, in the model worker thread).
 */
import {
  AppError,
  canonicalJson,
  importModelRequest,
  manifestSize,
  viewFloat32,
  type CheckpointRef,
  type ModelSpec,
  type RoundMetrics,
  type RunOrigin,
  type WeightsManifest,
} from '../protocol';
import type { CheckpointRow, Repository, RunRow } from '../db/repository';
import { checkJsonTree, checkTopology, compareShapes, decodeWeights, fileWeightSpecs, modelJsonTooLarge } from './export-check';
import { createInitialWeights, exportModelJson, importModelFile, specHash } from './run-model';
import { validateSpec } from '../protocol';

/** A run of the project with one of its checkpoints; not_found otherwise (never another project's). */
async function projectCheckpoint(repo: Repository, projectId: string, runId: string, round: number): Promise<{ run: RunRow; checkpoint: CheckpointRow }> {
  const run = await repo.getRun(runId);
  if (!run || run.projectId !== projectId) throw new AppError('not_found', 'No such run in this project.');
  const checkpoint = await repo.getCheckpoint(runId, round);
  if (!checkpoint) throw new AppError('not_found', `That run has no checkpoint at round ${round}.`);
  return { run, checkpoint };
}

function checkpointVector(checkpoint: CheckpointRow): { manifest: WeightsManifest; weights: Float32Array } {
  const manifest = JSON.parse(checkpoint.manifest) as WeightsManifest;
  const view = viewFloat32(checkpoint.weights, manifestSize(manifest));
  if (!view) throw new Error(`checkpoint ${checkpoint.runId}/${checkpoint.round}: weights do not match their manifest`);
  return { manifest, weights: view };
}

// model.json depends only on the run's frozen spec: a few recent ones are kept.
const MODEL_JSON_CACHE = 16;
const modelJsonCache = new Map<string, Promise<string>>();

/** model.json for a checkpoint: the topology of the run's own spec, weights in weights.bin beside it. */
export async function checkpointModelJson(repo: Repository, projectId: string, runId: string, round: number): Promise<string> {
  const { run, checkpoint } = await projectCheckpoint(repo, projectId, runId, round);
  checkpointVector(checkpoint); // refuses a damaged checkpoint before promising its weights
  let text = modelJsonCache.get(run.specHash);
  if (!text) {
    const checked = validateSpec(JSON.parse(run.spec));
    if (!checked.ok) throw new Error(`run ${run.id}: its stored spec is no longer valid`);
    text = exportModelJson(checked.spec);
    text.catch(() => modelJsonCache.delete(run.specHash));
    modelJsonCache.set(run.specHash, text);
    if (modelJsonCache.size > MODEL_JSON_CACHE) modelJsonCache.delete(modelJsonCache.keys().next().value!);
  }
  return text;
}

/** weights.bin for a checkpoint: its float32 little-endian values in manifest order, as stored. */
export async function checkpointWeights(repo: Repository, projectId: string, runId: string, round: number): Promise<Uint8Array> {
  const { checkpoint } = await projectCheckpoint(repo, projectId, runId, round);
  const { weights } = checkpointVector(checkpoint);
  return new Uint8Array(weights.buffer, weights.byteOffset, weights.byteLength);
}

/**
 * The weights a restored run starts from: the checkpoint's values under the current spec's
 * manifest. Refused (400, naming the first tensor whose shape differs) when they do not fit.
 */
export async function restoreStart(
  repo: Repository,
  projectId: string,
  spec: ModelSpec,
  from: CheckpointRef,
): Promise<{ manifest: WeightsManifest; weights: Float32Array; origin: RunOrigin }> {
  const { checkpoint } = await projectCheckpoint(repo, projectId, from.runId, from.round);
  const stored = checkpointVector(checkpoint);
  const { manifest } = await createInitialWeights(spec);
  const mismatch = compareShapes(stored.manifest, manifest, { given: 'the checkpoint', expected: 'the current spec' });
  if (mismatch) throw new AppError('bad_request', `This checkpoint does not fit the current spec: ${mismatch}.`);
  return { manifest, weights: stored.weights.slice(), origin: { kind: 'checkpoint', runId: from.runId, round: from.round } };
}

const importing = new Set<string>();

/**
 * Stores an uploaded TensorFlow.js layers model as a finished run of the current spec with one
 * checkpoint (round 0, evaluated on the held-out set), so it can be restored like any other.
 * Every refusal is a 400 that says what is wrong with which file.
 */
export async function importModel(
  repo: Repository,
  projectId: string,
  spec: ModelSpec,
  raw: unknown,
): Promise<{ runId: string; loss: number; accuracy: number }> {
  const refuse = (problem: string): never => {
    throw new AppError('bad_request', problem.endsWith('.') ? problem : `${problem}.`);
  };
  const tree = checkJsonTree(raw);
  if (tree) refuse(tree);
  const parsed = importModelRequest.safeParse(raw);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    refuse(first ? `${first.path.join('.') || 'body'}: ${first.message}` : 'The upload is malformed');
  }
  const body = parsed.data!;
  if (modelJsonTooLarge(body.modelJson)) refuse('model.json is larger than 256 KiB');
  const topology = checkTopology(body.modelJson.modelTopology);
  if (!topology.ok) return refuse(topology.problem);
  const specs = fileWeightSpecs(body.modelJson);
  if (!specs.ok) return refuse(specs.problem);
  // A file whose layers make other tensors than its manifest lists would only fail deep inside TF.js.
  const selfMismatch = compareShapes(specs.value, topology.value.weights, { given: "model.json's weightsManifest", expected: 'its layers' });
  if (selfMismatch) refuse(`model.json contradicts itself: ${selfMismatch}`);
  const weights = decodeWeights(body.weightsBase64, specs.value);
  if (!weights.ok) return refuse(weights.problem);

  if (importing.has(projectId)) throw new AppError('rate_limited', 'Another model is being imported into this project; try again when it is done.');
  importing.add(projectId);
  try {
    const result = await importModelFile(spec, { modelTopology: body.modelJson.modelTopology as object, weightSpecs: specs.value, weights: weights.value });
    if (result.problem !== undefined) return refuse(result.problem);
    const origin: RunOrigin = { kind: 'import', name: body.name };
    const row = await repo.createRun({
      projectId,
      spec: canonicalJson(spec),
      specHash: specHash(spec),
      totalRounds: 0,
      status: 'finished',
      origin: JSON.stringify(origin),
    });
    const metrics: RoundMetrics = { round: 0, loss: result.loss, accuracy: result.accuracy, trainLoss: null, participants: 0, samples: 0 };
    const now = new Date();
    await repo.saveRound(
      null,
      {
        runId: row.id,
        round: 0,
        weights: new Uint8Array(result.weights.buffer, result.weights.byteOffset, result.weights.byteLength),
        manifest: JSON.stringify(result.manifest),
        metrics: JSON.stringify(metrics),
        optimizerState: null,
        loopState: null,
        createdAt: now,
      },
      [],
    );
    await repo.updateRun(row.id, { finishedAt: now });
    return { runId: row.id, loss: result.loss, accuracy: result.accuracy };
  } finally {
    importing.delete(projectId);
  }
}
