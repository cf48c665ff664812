import { z } from 'zod';
import { ERRORS, type ErrorCode } from './errors';
import { vectorEncodingSchema } from './codec';
import { modelSpecSchema } from './spec';
import { weightsManifestSchema } from './weights';

/**
 * Every socket.io message is sent on the single event `msg` as one of these objects, keyed on
 * `type`. Binary fields are real binary attachments (Uint8Array out; Buffer in Node, ArrayBuffer
 * in browsers), never JSON numbers. See PROTOCOL.md.
 */
export const MESSAGE_EVENT = 'msg';

/** socket.io handshake `auth` payload: a member token (headless) or a short-lived ticket (browser). */
export const socketAuthSchema = z.union([
  z.object({ slug: z.string().min(1).max(64), token: z.string().min(10).max(200) }),
  z.object({ slug: z.string().min(1).max(64), ticket: z.string().min(10).max(200) }),
]);
export type SocketAuth = z.infer<typeof socketAuthSchema>;

const binary = z.custom<ArrayBuffer | Uint8Array>(
  (v) => v instanceof ArrayBuffer || v instanceof Uint8Array,
  'expected binary data',
);

/** owner: runs the project; member: edits and trains; viewer: watches (read-only spec, never trains). */
export const MEMBER_ROLES = ['owner', 'member', 'viewer'] as const;
export const roleSchema = z.enum(MEMBER_ROLES);
export type MemberRole = (typeof MEMBER_ROLES)[number];

export const BACKENDS = ['webgl', 'wasm', 'cpu'] as const;
export type Backend = (typeof BACKENDS)[number];

// ---- client → server -------------------------------------------------------------------------

export const helloMessage = z.object({
  type: z.literal('hello'),
  protocolVersion: z.number().int(),
  backend: z.enum(BACKENDS),
  /** Milliseconds the backend probe took; lower is faster. */
  probeMs: z.number().min(0).max(600_000),
  agent: z.enum(['browser', 'headless']),
  /** Whether this client offers its compute for training rounds. */
  contribute: z.boolean(),
});

export const updateMessage = z.object({
  type: z.literal('update'),
  runId: z.string().max(64),
  round: z.number().int().min(1),
  samples: z.number().int().min(1).max(10_000_000),
  computeMs: z.number().min(0).max(86_400_000),
  trainLoss: z.number().nullable(),
  /** Share of its training rows the client's model classifies right after local training (absent: not reported). */
  trainAccuracy: z.number().min(0).max(1).nullable().optional(),
  /** Weight delta (local − global), in manifest order, encoded as `encoding` (the run's spec.encoding). */
  encoding: vectorEncodingSchema.default('float32'),
  delta: binary,
});

// Secure aggregation (spec.privacy.secureAggregation: on; see PROTOCOL.md and workers/ml/secagg.ts).
const secaggSession = z.string().min(1).max(64);
/** A client's ephemeral ECDH P-256 public key (65 raw bytes) for the round, sent once it has trained, with the samples it trained on. */
export const secaggKeyMessage = z.object({
  type: z.literal('secagg_key'),
  runId: z.string().max(64),
  round: z.number().int().min(1),
  session: secaggSession,
  publicKey: binary,
  samples: z.number().int().min(1).max(10_000_000),
});
/**
 * The masked contribution: (P + 4) little-endian u32 values, its delta and statistics in fixed
 * point plus its self-mask and pairwise masks (mod 2³²); with it, one sealed share of the
 * self-mask seed for every other roster member (AES-GCM under the pair's share key).
 */
export const secaggMaskedMessage = z.object({
  type: z.literal('secagg_masked'),
  runId: z.string().max(64),
  round: z.number().int().min(1),
  session: secaggSession,
  samples: z.number().int().min(1).max(10_000_000),
  computeMs: z.number().min(0).max(86_400_000),
  masked: binary,
  shares: z.array(z.object({ clientId: z.string().max(200), box: binary })).max(10_000),
});
/**
 * A survivor's answer to `secagg_reveal_request`: the 32-byte seed it shares with each dropped
 * client, and its share of each survivor's self-mask seed (its own included).
 */
export const secaggRevealMessage = z.object({
  type: z.literal('secagg_reveal'),
  runId: z.string().max(64),
  round: z.number().int().min(1),
  session: secaggSession,
  seeds: z.array(z.object({ clientId: z.string().max(200), seed: binary })).max(10_000),
  shares: z.array(z.object({ clientId: z.string().max(200), share: binary })).max(10_000),
});

export const clientMessageSchema = z.discriminatedUnion('type', [helloMessage, updateMessage, secaggKeyMessage, secaggMaskedMessage, secaggRevealMessage]);
export type ClientMessage = z.infer<typeof clientMessageSchema>;

// ---- server → client -------------------------------------------------------------------------

export const RUN_STATUSES = ['waiting', 'training', 'paused', 'finished', 'stopped', 'failed'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export const roundMetricsSchema = z.object({
  round: z.number().int().min(0),
  loss: z.number(),
  accuracy: z.number(),
  trainLoss: z.number().nullable(),
  /** Sample-weighted mean training accuracy the clients reported (null: none did). */
  trainAccuracy: z.number().nullable().optional(),
  participants: z.number().int(),
  samples: z.number().int(),
  /** Wall time of the round, start of assignment to aggregated model (ms). */
  durationMs: z.number().min(0).optional(),
  /**
   * Secure aggregation rounds: masked updates summed, clients dropped after the key exchange, and
   * whether their dangling masks had to be removed with seeds the survivors revealed ('recovered').
   */
  secureAggregation: z.object({ summed: z.number().int(), dropped: z.number().int(), outcome: z.enum(['complete', 'recovered']) }).optional(),
});
export type RoundMetrics = z.infer<typeof roundMetricsSchema>;

/** The privacy accountant's reading (server/protocol/privacy-accountant.ts), updated every round. */
export const privacyStatusSchema = z.object({
  /** ε spent for the spec's δ by the rounds counted so far, with sampling amplification at each round's rate q. */
  epsilon: z.number().min(0),
  /** ε without sampling amplification (q = 1): for a participant in every round, or when who took part is known. */
  epsilonUnsampled: z.number().min(0),
  /** ε at the run's last round if the rounds left sample at the last round's rate (the spec's fraction before any). */
  epsilonProjected: z.number().min(0),
  delta: z.number(),
  /** Rounds counted (each saved round of a DP run). */
  rounds: z.number().int().min(0),
  /** q of the last counted round: participants / available clients. */
  sampleRate: z.number().min(0).max(1).nullable(),
  noiseMultiplier: z.number(),
  clipNorm: z.number(),
});
export type PrivacyStatus = z.infer<typeof privacyStatusSchema>;

export const SECAGG_PHASES = ['keys', 'masking', 'revealing', 'unmasking'] as const;
/** Why a secure aggregation round had to run again (the masked sum could not be opened). */
export const SECAGG_REDO_REASONS = ['too_few_keys', 'too_few_masked', 'reveal_missing', 'unmask_failed'] as const;
export const secaggStatusSchema = z.object({
  /** Step of the open round: collecting public keys, masked updates, revealed seeds, or summing. null between rounds. */
  phase: z.enum(SECAGG_PHASES).nullable(),
  keys: z.number().int().min(0),
  masked: z.number().int().min(0),
  /** The last time a round had to run again, and why. */
  lastRedo: z.object({ round: z.number().int(), reason: z.enum(SECAGG_REDO_REASONS) }).nullable(),
});
export type SecAggStatus = z.infer<typeof secaggStatusSchema>;

/**
 * Whether the run's rounds reach the database. 'unavailable': it cannot be reached; training goes
 * on in memory and the saves wait (pendingRounds) to be stored in order once it is back.
 */
export const storageStatusSchema = z.object({
  status: z.enum(['ok', 'unavailable']),
  /** Rounds trained but not yet stored (round row, contributions, checkpoint). */
  pendingRounds: z.number().int().min(0),
  /** Rounds whose checkpoint weights were given up in a long outage (their round rows are kept). */
  droppedCheckpoints: z.number().int().min(0),
});
export type StorageStatus = z.infer<typeof storageStatusSchema>;

export const runStateSchema = z.object({
  runId: z.string(),
  status: z.enum(RUN_STATUSES),
  /** Round in progress (1-based), or the last finished one when the run has ended. */
  round: z.number().int().min(0),
  totalRounds: z.number().int(),
  /** Clients taking part in the round in progress. */
  participants: z.number().int(),
  /** Updates received so far in the round in progress. */
  received: z.number().int(),
  /** Why the run is not training right now, for the UI. */
  waitingReason: z.string().nullable(),
  /** Held-out metrics of every finished round, round 0 being the initial model. */
  history: z.array(roundMetricsSchema),
  /** The spec the run trains with: frozen at Train, plus live fields edited since (next round on). */
  spec: modelSpecSchema,
  /** Privacy spent so far when the run trains with differential privacy; null without it. */
  privacy: privacyStatusSchema.nullable().default(null),
  /** Secure aggregation progress of the open round; null without it. */
  secureAggregation: secaggStatusSchema.nullable().default(null),
  /** Whether rounds are being stored; see storageStatusSchema. */
  storage: storageStatusSchema.default({ status: 'ok', pendingRounds: 0, droppedCheckpoints: 0 }),
});
export type RunState = z.infer<typeof runStateSchema>;

export const welcomeMessage = z.object({
  type: z.literal('welcome'),
  clientId: z.string(),
  memberId: z.string(),
  name: z.string(),
  role: roleSchema,
});

export const stateMessage = z.object({
  type: z.literal('state'),
  run: runStateSchema.nullable(),
  /** Training clients connected to the project right now. */
  clients: z.array(z.object({ clientId: z.string(), name: z.string(), backend: z.enum(BACKENDS), contribute: z.boolean() })),
});

export const assignMessage = z.object({
  type: z.literal('assign'),
  runId: z.string(),
  round: z.number().int().min(1),
  spec: modelSpecSchema,
  manifest: weightsManifestSchema,
  /** Global weights (manifest order, encoded as `encoding`) to start the round from. */
  encoding: vectorEncodingSchema.default('float32'),
  weights: binary,
  /** This client's shard: training indices i with i % parts === part. */
  shard: z.object({ part: z.number().int().min(0), parts: z.number().int().min(1) }),
  deadlineMs: z.number().int().min(1),
  /** Secure aggregation: the round attempt's session, to quote in every secagg_* message (absent without it). */
  secureAggregation: z.object({ session: secaggSession }).optional(),
});

/** Everyone who sent a key, to each of them: derive a seed with every other member, mask, send `secagg_masked` within deadlineMs. */
export const secaggRosterMessage = z.object({
  type: z.literal('secagg_roster'),
  runId: z.string(),
  round: z.number().int().min(1),
  session: secaggSession,
  /** Fixed-point scale exponent f of the round (values travel as round(samples·v·2^f) mod 2³²). */
  scaleBits: z.number().int().min(-64).max(64),
  members: z.array(z.object({ clientId: z.string(), publicKey: binary })).min(2).max(10_000),
  deadlineMs: z.number().int().min(1),
});

/**
 * To each client whose masked update was summed: the roster split into survivors and dropped
 * clients, and the sealed shares the other survivors sent it. It answers with its shares of the
 * survivors' self-mask seeds and the pairwise seeds it shares with the dropped (never both for one
 * client, so no single update can be opened).
 */
export const secaggRevealRequestMessage = z.object({
  type: z.literal('secagg_reveal_request'),
  runId: z.string(),
  round: z.number().int().min(1),
  session: secaggSession,
  survivors: z.array(z.string()).min(2).max(10_000),
  dropped: z.array(z.string()).max(10_000),
  shares: z.array(z.object({ clientId: z.string(), box: binary })).max(10_000),
  deadlineMs: z.number().int().min(1),
});

export const modelMessage = z.object({
  type: z.literal('model'),
  runId: z.string(),
  metrics: roundMetricsSchema,
  manifest: weightsManifestSchema,
  /** The new global weights after aggregation, encoded as `encoding`. */
  encoding: vectorEncodingSchema.default('float32'),
  weights: binary,
});

export const errorMessage = z.object({
  type: z.literal('error'),
  code: z.enum(Object.keys(ERRORS) as [ErrorCode, ...ErrorCode[]]),
  message: z.string(),
});

export const serverMessageSchema = z.discriminatedUnion('type', [
  welcomeMessage,
  stateMessage,
  assignMessage,
  modelMessage,
  errorMessage,
  secaggRosterMessage,
  secaggRevealRequestMessage,
]);
export type SecAggRosterMessage = z.infer<typeof secaggRosterMessage>;
export type SecAggRevealRequestMessage = z.infer<typeof secaggRevealRequestMessage>;
export type ServerMessage = z.infer<typeof serverMessageSchema>;
export type AssignMessage = z.infer<typeof assignMessage>;
export type ModelMessage = z.infer<typeof modelMessage>;

// ---- Yjs room: close codes and the room's own awareness state ------------------------------------

/**
 * Close codes of the Yjs websocket beyond the standard ones (1003 unreadable frame, 1011 storage
 * failure). A client that sees `read_only` or `spec_locked` drops its local copy (the refused
 * edit) and syncs afresh; `role_changed` means: fetch a new ticket, the role it carries changed.
 */
export const YJS_CLOSE = {
  revoked: { code: 4003, reason: 'access revoked' },
  role_changed: { code: 4004, reason: 'your role changed; reconnect' },
  read_only: { code: 4005, reason: 'read-only: this connection may not edit the spec' },
  spec_locked: { code: 4006, reason: 'the spec is locked by the owner' },
  project_deleted: { code: 4010, reason: 'the project was deleted' },
  left: { code: 4011, reason: 'you left the project' },
} as const satisfies Record<string, { code: number; reason: string }>;

/**
 * What the server announces as its own awareness state in every project's Yjs room: whether the
 * spec is locked, and a counter bumped whenever the owner changes members (names, roles, hidden),
 * so views showing members refetch them.
 */
export const roomAwarenessSchema = z.object({
  room: z.object({ specLocked: z.boolean(), membersRev: z.number().int().min(0) }),
});
export type RoomAwareness = z.infer<typeof roomAwarenessSchema>['room'];
