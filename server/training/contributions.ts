/**
 * Who did what in a run, and what adding people bought: pure aggregation over stored rows
 * (contributions, rounds, members) into the contributions report the API serves. No IO.
 */
import type { ContributionsReport } from '../protocol';
import type { ContributionRow, MemberRow, RoundRow } from '../db/repository';

type Counts = ContributionsReport['totals'];
export type MemberContribution = ContributionsReport['members'][number];
export type ScalePoint = ContributionsReport['rounds'][number];
export type ScaleSummary = ContributionsReport['scale'][number];

const emptyCounts = (): Counts => ({ samples: 0, computeMs: 0, accepted: 0, late: 0, rejected: 0, dropped: 0 });

function add(counts: Counts, row: ContributionRow): void {
  counts[row.status] += 1;
  // Only accepted work reached the model; other rows carry no trusted numbers.
  if (row.status === 'accepted') {
    counts.samples += row.samples;
    counts.computeMs += row.computeMs;
  }
}

/** A member as the report names them: `name` null when it is not to be shown (hidden from this viewer). */
export type NamedMember = { id: MemberRow['id']; name: string | null };

/**
 * Per-member totals of a run's contribution rows, in order of first appearance; members are
 * named from `members` (revoked ones included), `name: null` for an id not listed there.
 */
export function memberTotals(rows: readonly ContributionRow[], members: readonly NamedMember[]): MemberContribution[] {
  const names = new Map(members.map((m) => [m.id, m.name]));
  const byMember = new Map<string, { counts: Counts; backends: Map<string, number> }>();
  for (const row of rows) {
    let entry = byMember.get(row.memberId);
    if (!entry) byMember.set(row.memberId, (entry = { counts: emptyCounts(), backends: new Map() }));
    add(entry.counts, row);
    // 'unknown' is what the server records when it never learned the backend: not worth showing.
    if (row.backend !== 'unknown') entry.backends.set(row.backend, (entry.backends.get(row.backend) ?? 0) + 1);
  }
  return [...byMember].map(([memberId, { counts, backends }]) => ({
    memberId,
    name: names.get(memberId) ?? null,
    backends: [...backends].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([backend]) => backend),
    ...counts,
  }));
}

/** The sum of every member's counts (the table's totals row). */
export function totalsOf(members: readonly MemberContribution[]): Counts {
  const totals = emptyCounts();
  for (const m of members) for (const key of Object.keys(totals) as (keyof Counts)[]) totals[key] += m[key];
  return totals;
}

/** One point per round: participants asked, samples aggregated, wall time and throughput. */
export function throughputSeries(rounds: readonly Pick<RoundRow, 'number' | 'participants' | 'accepted' | 'samples' | 'accuracy' | 'startedAt' | 'finishedAt'>[]): ScalePoint[] {
  return [...rounds]
    .sort((a, b) => a.number - b.number)
    .map((r) => {
      const elapsed = r.finishedAt.getTime() - r.startedAt.getTime();
      const durationMs = Number.isFinite(elapsed) && elapsed >= 0 ? elapsed : null;
      return {
        round: r.number,
        participants: r.participants,
        accepted: r.accepted,
        samples: r.samples,
        durationMs,
        samplesPerSecond: durationMs ? r.samples / (durationMs / 1000) : null,
        accuracy: r.accuracy,
      };
    });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * Rounds grouped by how many participants were asked, with the median throughput of each group
 * (a median, so one round that waited for a straggler does not speak for the rest), most
 * participants first: "with 8: 4,100 samples/s; with 2: 1,050".
 */
export function scaleSummary(points: readonly ScalePoint[]): ScaleSummary[] {
  const groups = new Map<number, number[]>();
  for (const p of points) {
    if (p.samplesPerSecond === null) continue;
    const group = groups.get(p.participants) ?? [];
    group.push(p.samplesPerSecond);
    groups.set(p.participants, group);
  }
  return [...groups]
    .sort((a, b) => b[0] - a[0])
    .map(([participants, speeds]) => ({ participants, rounds: speeds.length, samplesPerSecond: median(speeds) }));
}

/** The whole report for one run. */
export function contributionsReport(input: {
  runId: string;
  rows: readonly ContributionRow[];
  rounds: Parameters<typeof throughputSeries>[0];
  members: readonly NamedMember[];
}): ContributionsReport {
  const members = memberTotals(input.rows, input.members);
  const rounds = throughputSeries(input.rounds);
  return { runId: input.runId, members, totals: totalsOf(members), rounds, scale: scaleSummary(rounds) };
}
