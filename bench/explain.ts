/**
 * The explain views' cost: one decision-boundary update of the default spiral model (64×64 grid,
 * every hidden activation kept) and one held-out evaluation of the MNIST MLP template's network
 * on 600 digit-sized inputs, with the plain typed-array forward pass the explain worker runs.
 */
import { DEFAULT_SPEC } from '../server/protocol/spec';
import { TEMPLATES } from '../server/protocol/templates';
import { evaluatePlane, forward, networkFromWeights, planeResolution } from '../workers/ml/explain';
import { initialWeights } from '../workers/ml/model';
import { loadNodeTf } from '../workers/ml/node-tf';
import { mulberry32 } from '../workers/ml/random';

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Median wall time and median CPU time (what a shared, busy machine distorts least) of `f`, in ms. */
function time(runs: number, f: () => void): { wall: number; cpu: number } {
  f(); // warm-up
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    const cpuStart = process.cpuUsage();
    f();
    const used = process.cpuUsage(cpuStart);
    wall.push(performance.now() - start);
    cpu.push((used.user + used.system) / 1000);
  }
  return { wall: median(wall), cpu: median(cpu) };
}

export async function benchExplain(): Promise<Record<string, number>> {
  const tf = await loadNodeTf('cpu');
  const spiral = initialWeights(tf, DEFAULT_SPEC, 1);
  const net = networkFromWeights(DEFAULT_SPEC, spiral.manifest, spiral.weights);
  const res = planeResolution(net);
  const planeMs = time(30, () => evaluatePlane(DEFAULT_SPEC, net, res));

  const mlpSpec = TEMPLATES.mnist_mlp.spec;
  const mlp = initialWeights(tf, mlpSpec, 1);
  const mlpNet = networkFromWeights(mlpSpec, mlp.manifest, mlp.weights);
  const rng = mulberry32(1);
  // Digit-like sparsity: about a fifth of the pixels carry ink.
  const images = Float32Array.from({ length: 600 * 784 }, () => (rng() < 0.8 ? 0 : rng()));
  const digitsMs = time(5, () => forward(mlpNet, images, 600));
  return {
    plane_res: res,
    plane_ms_spiral: planeMs.wall,
    plane_cpu_ms_spiral: planeMs.cpu,
    heldout_ms_mnist_mlp_600: digitsMs.wall,
    heldout_cpu_ms_mnist_mlp_600: digitsMs.cpu,
  };
}
