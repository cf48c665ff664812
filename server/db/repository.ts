/**
 * The persistence port: everything the server stores, as a small interface. One Prisma-backed
 * implementation serves SQLite and PostgreSQL (see prisma-repository.ts); tests run the same code
 * against both. Binary columns are Uint8Array in and out.
 */
/** owner: runs the project; member: edits and trains; viewer: watches (read-only spec, never trains). */
export type Role = 'owner' | 'member' | 'viewer';
export const ROLES: readonly Role[] = ['owner', 'member', 'viewer'];
export type RunStatusDb = 'waiting' | 'training' | 'paused' | 'finished' | 'stopped' | 'failed';

export interface ProjectRow {
  id: string;
  slug: string;
  name: string;
  joinCode: string;
  /** Only the owner may edit the shared spec while this is on. */
  specLocked: boolean;
  createdAt: Date;
}

export interface MemberRow {
  id: string;
  projectId: string;
  name: string;
  role: Role;
  /** Hidden by the owner on the projector view. */
  hidden: boolean;
  createdAt: Date;
  /** Removed by the owner: no longer a member (contributions keep the name). */
  revoked: boolean;
}

export interface RunRow {
  id: string;
  projectId: string;
  status: RunStatusDb;
  /** The frozen spec, canonical JSON. */
  spec: string;
  specHash: string;
  totalRounds: number;
  /** Last round whose checkpoint is saved (0 = initial weights only). */
  lastRound: number;
  error: string | null;
  /** JSON of where the starting weights came from ({kind:'checkpoint',runId,round} | {kind:'import',name}); null = fresh. */
  origin: string | null;
  createdAt: Date;
  finishedAt: Date | null;
}

export interface RoundRow {
  runId: string;
  number: number;
  participants: number;
  samples: number;
  loss: number;
  accuracy: number;
  trainLoss: number | null;
  /** Sample-weighted mean training accuracy reported by clients; null when none did. */
  trainAccuracy: number | null;
  accepted: number;
  late: number;
  dropped: number;
  rejected: number;
  bytesIn: number;
  bytesOut: number;
  aggregationMs: number;
  evalMs: number;
  /** JSON of the hyperparameters the round ran with. */
  hyperparams: string;
  startedAt: Date;
  finishedAt: Date;
}

export interface CheckpointRow {
  runId: string;
  round: number;
  /** float32 little-endian, manifest order. */
  weights: Uint8Array;
  /** JSON of the weights manifest ([{name, shape}]). */
  manifest: string;
  /** JSON of the held-out metrics at this round. */
  metrics: string;
  /** Server-optimizer state bytes; null for the plain rule or round 0. */
  optimizerState: Uint8Array | null;
  /** JSON of the loop's other state ({samplerState}). */
  loopState: string | null;
  createdAt: Date;
}

export interface ContributionRow {
  runId: string;
  round: number;
  memberId: string;
  samples: number;
  computeMs: number;
  backend: string;
  /** What became of the update. */
  status: ContributionStatus;
}

export type ContributionStatus = 'accepted' | 'late' | 'rejected' | 'dropped';

export interface Repository {
  /** Creates a project with its owner member in one transaction. */
  createProject(input: {
    slug: string;
    name: string;
    joinCode: string;
    owner: { name: string; tokenHash: string };
  }): Promise<{ project: ProjectRow; owner: MemberRow }>;
  findProjectBySlug(slug: string): Promise<ProjectRow | null>;
  findProjectByJoinCode(joinCode: string): Promise<ProjectRow | null>;
  listProjects(): Promise<ProjectRow[]>;
  /** Replaces a project's join code (the old one stops working). */
  setJoinCode(projectId: string, joinCode: string): Promise<ProjectRow>;
  /** Renames a project or locks/unlocks its spec. */
  updateProject(projectId: string, patch: { name?: string; specLocked?: boolean }): Promise<ProjectRow>;

  addMember(input: { projectId: string; name: string; role: Role; tokenHash: string }): Promise<MemberRow>;
  /** The member holding a token (by its hash), with the project it belongs to. */
  findMemberByTokenHash(tokenHash: string): Promise<{ member: MemberRow; project: ProjectRow } | null>;
  setMemberTokenHash(memberId: string, tokenHash: string): Promise<void>;
  /** The project's members, except those who left; removed (revoked) ones included, marked. */
  listMembers(projectId: string): Promise<MemberRow[]>;
  /** Renames a member, changes their role (never to or from owner here) or hides them on the projector. */
  updateMember(memberId: string, patch: { name?: string; role?: Role; hidden?: boolean }): Promise<MemberRow>;
  /**
   * A member leaves: their row stays (contributions point at it) but the name is erased to
   * `anonymousName`, the token replaced by `tokenHash` (one nobody holds) and they are never
   * listed again (listMembers, tickets).
   */
  markMemberLeft(memberId: string, input: { anonymousName: string; tokenHash: string }): Promise<void>;
  /** The owner removed a member: their token is replaced by `tokenHash` (one nobody holds) and they are marked revoked. */
  markMemberRevoked(memberId: string, tokenHash: string): Promise<void>;
  /** Deletes a project and everything of it (members, document and log, runs, rounds, checkpoints, contributions) in one transaction. */
  deleteProject(projectId: string): Promise<void>;

  /** The Yjs document: the last compacted state plus every update appended since, in order. */
  loadDoc(projectId: string): Promise<{ state: Uint8Array | null; updates: { seq: number; update: Uint8Array }[] }>;
  /** Appends one Yjs update to the log; resolves once it is durable. Returns its sequence number. */
  appendDocUpdate(projectId: string, update: Uint8Array): Promise<number>;
  /** Appends several updates, in order, in one commit (group commit); resolves with their sequence numbers. */
  appendDocUpdates(projectId: string, updates: Uint8Array[]): Promise<number[]>;
  /** Replaces the stored state and drops logged updates with seq ≤ upToSeq, atomically. */
  compactDoc(projectId: string, state: Uint8Array, upToSeq: number): Promise<void>;

  createRun(input: { projectId: string; spec: string; specHash: string; totalRounds: number; status: RunStatusDb; origin?: string | null }): Promise<RunRow>;
  updateRun(runId: string, patch: Partial<Pick<RunRow, 'status' | 'lastRound' | 'error' | 'finishedAt'>>): Promise<void>;
  getRun(runId: string): Promise<RunRow | null>;
  /** Runs of a project, newest first. */
  listRuns(projectId: string): Promise<RunRow[]>;
  /** The project's run that is waiting, training or paused, if any. */
  findActiveRun(projectId: string): Promise<RunRow | null>;

  /**
   * Saves a finished round, its checkpoint and its contributions in one transaction. The checkpoint
   * is null only for a round whose weights were given up during a long database outage (see
   * server/training/persist-queue.ts): its round row and contributions are still stored.
   */
  saveRound(round: RoundRow | null, checkpoint: CheckpointRow | null, contributions: ContributionRow[]): Promise<void>;
  listRounds(runId: string): Promise<RoundRow[]>;
  /** Checkpoint metadata (no weights) of a run, by round ascending. */
  listCheckpoints(runId: string): Promise<Omit<CheckpointRow, 'weights' | 'optimizerState'>[]>;
  getCheckpoint(runId: string, round: number): Promise<CheckpointRow | null>;
  /** Deletes these rounds' checkpoints of a run (retention; round rows stay). Resolves with how many went. */
  deleteCheckpoints(runId: string, rounds: number[]): Promise<number>;
  listContributions(runId: string): Promise<ContributionRow[]>;

  /** The stored secret called `name`; stores `fresh` first if there is none (first caller wins). */
  serverSecret(name: string, fresh: Uint8Array): Promise<Uint8Array>;

  /** Resolves when the database answers a trivial query (health checks). */
  ping(): Promise<void>;

  close(): Promise<void>;
}
