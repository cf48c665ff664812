/**
 * `round.core_overhead_ms_50_clients`: the pure coordinator alone, in memory, 50 clients whose
 * training is instant, 100k parameters — mean time per round spent in the core (sampling,
 * accepting and folding 50 updates, closing the round).
 */
import { Coordinator, type Decision } from '../server/training/coordinator';

const PARAMS = 100_000;
const CLIENTS = 50;
/** Rounds run before timing: V8 and WebAssembly tier up their code over the first ~20 rounds. */
const WARMUP = 20;

export async function benchRound(options: { rounds?: number } = {}): Promise<Record<string, number>> {
  const rounds = options.rounds ?? 60;
  const ids = Array.from({ length: CLIENTS }, (_, i) => `client-${i}`);
  const deltas = ids.map((_, i) => new Float32Array(PARAMS).map((_, j) => Math.sin(i * 31 + j) * 1e-3));
  const coordinator = new Coordinator({ runId: 'bench', totalRounds: rounds + WARMUP, paramCount: PARAMS, lastRound: 0, minClients: 1 });
  for (const clientId of ids) coordinator.handle({ type: 'client_available', clientId });

  const times: number[] = [];
  let decisions: Decision[] = coordinator.start();
  for (let r = 0; r < rounds + WARMUP; r++) {
    const start = decisions.find((d): d is Extract<Decision, { type: 'start_round' }> => d.type === 'start_round');
    if (!start) throw new Error(`round did not start: ${JSON.stringify(decisions.map((d) => d.type))}`);
    const began = performance.now();
    let closed: Extract<Decision, { type: 'close_round' }> | undefined;
    start.participants.forEach((clientId, i) => {
      for (const d of coordinator.handle({ type: 'update', clientId, round: start.round, samples: 100, computeMs: 0, trainLoss: 0.5, delta: deltas[i]! })) {
        if (d.type === 'close_round') closed = d;
      }
    });
    if (!closed) throw new Error('round did not close');
    decisions = coordinator.handle({ type: 'round_saved', round: start.round });
    if (r >= WARMUP) times.push(performance.now() - began);
  }
  times.sort((a, b) => a - b);
  return {
    core_overhead_ms_50_clients: times.reduce((a, b) => a + b, 0) / times.length,
    core_p50_ms_50_clients: times[Math.floor(times.length / 2)]!,
    core_max_ms_50_clients: times[times.length - 1]!,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.table(await benchRound());
}
