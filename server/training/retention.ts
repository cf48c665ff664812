/**
 * Checkpoint retention: which per-round checkpoints of a run to keep. Pure: no IO. Round rows
 * (the metrics) are never thinned, only checkpoint weights.
 *
 * Kept: round 0 (the starting weights), every `keepEvery`-th round, the `keepLatest` newest
 * checkpoints (the newest is what a resume after a restart needs), and the run's final round.
 */
export interface RetentionPolicy {
  /** The newest checkpoints kept, at least 1 (a resume needs the latest). */
  keepLatest: number;
  /** Every k-th round is kept (round % k === 0); 1 keeps every round. */
  keepEvery: number;
}

export const DEFAULT_RETENTION: RetentionPolicy = { keepLatest: 20, keepEvery: 10 };

/**
 * The rounds, among a run's stored checkpoint rounds, that the policy keeps. `finalRound` is the
 * run's last round once it has ended (finished or stopped), kept whatever the policy says.
 */
export function roundsToKeep(stored: readonly number[], policy: RetentionPolicy, finalRound: number | null = null): Set<number> {
  const keepLatest = Math.max(1, Math.floor(policy.keepLatest));
  const keepEvery = Math.max(1, Math.floor(policy.keepEvery));
  const sorted = [...new Set(stored)].sort((a, b) => a - b);
  const keep = new Set<number>(sorted.slice(-keepLatest));
  for (const round of sorted) if (round === 0 || round % keepEvery === 0 || round === finalRound) keep.add(round);
  return keep;
}

/** The stored checkpoint rounds the policy drops, ascending. */
export function roundsToDrop(stored: readonly number[], policy: RetentionPolicy, finalRound: number | null = null): number[] {
  const keep = roundsToKeep(stored, policy, finalRound);
  return [...new Set(stored)].filter((round) => !keep.has(round)).sort((a, b) => a - b);
}
