import { z } from 'zod';
import { roleSchema } from './messages';
import { TEMPLATE_NAMES } from './templates';
import { MAX_PARAMS } from './spec';

/** HTTP API bodies (requests validated on the server, responses parsed by clients). */
export const createProjectRequest = z.object({
  name: z.string().trim().min(1, 'Give the project a name').max(80),
  /** Display name of the creator (the owner). */
  ownerName: z.string().trim().min(1).max(40).optional(),
  /** The spec the project starts from (default: spiral). */
  template: z.enum(TEMPLATE_NAMES).optional(),
});
export const createProjectResponse = z.object({ slug: z.string(), joinCode: z.string(), ownerToken: z.string() });
/** POST /api/projects/:slug/owner-link: the owner's new token (the old one no longer works). */
export const ownerLinkResponse = z.object({ slug: z.string(), ownerToken: z.string() });

export const joinRequest = z.object({
  code: z.string().trim().min(4).max(16),
  name: z.string().trim().min(1, 'Enter a display name').max(40),
  /** member (default): edits and trains; viewer: watches only (read-only spec, never trains). */
  role: z.enum(['member', 'viewer']).optional(),
});
export const joinResponse = z.object({ slug: z.string(), memberToken: z.string(), role: roleSchema });

/** A checkpoint of a run in this project: its weights can start a new run (see `trainRequest.from`). */
export const checkpointRef = z.object({ runId: z.string().min(1).max(64), round: z.number().int().min(0).max(1_000_000) });
export type CheckpointRef = z.infer<typeof checkpointRef>;

/**
 * Train: `restart` first stops the active run (if any), then starts one with the current spec;
 * `from` initialises it with a checkpoint's weights instead of fresh ones (shapes must match).
 */
export const trainRequest = z.object({ restart: z.boolean().optional(), from: checkpointRef.optional() });
export const trainResponse = z.object({ runId: z.string() });

/** A short-lived credential for the Yjs websocket and the browser's socket.io handshake. */
export const ticketResponse = z.object({
  ticket: z.string(),
  expiresAt: z.number(),
  member: z.object({ id: z.string(), name: z.string(), role: roleSchema }),
});

export const projectSummary = z.object({
  slug: z.string(),
  name: z.string(),
  joinCode: z.string().nullable(),
  createdAt: z.string(),
});

/** What became of a member's work in a round (one stored row per client per round). */
export const CONTRIBUTION_STATUSES = ['accepted', 'late', 'rejected', 'dropped'] as const;
export type ContributionStatus = (typeof CONTRIBUTION_STATUSES)[number];

const contributionCounts = {
  /** Samples and compute of accepted updates only (the work that reached the model). */
  samples: z.number().int().min(0),
  computeMs: z.number().min(0),
  accepted: z.number().int().min(0),
  late: z.number().int().min(0),
  rejected: z.number().int().min(0),
  dropped: z.number().int().min(0),
};

/** GET /api/projects/:slug/runs/:runId/contributions: who did what, and what more people bought. */
export const contributionsResponse = z.object({
  runId: z.string(),
  members: z.array(
    z.object({
      memberId: z.string(),
      /** Null when the member no longer exists. */
      name: z.string().nullable(),
      /** Backends this member trained with in the run, most used first. */
      backends: z.array(z.string()),
      ...contributionCounts,
    }),
  ),
  totals: z.object(contributionCounts),
  /** One point per finished round: who was asked, what was delivered, how fast. */
  rounds: z.array(
    z.object({
      round: z.number().int().min(1),
      participants: z.number().int().min(0),
      accepted: z.number().int().min(0),
      samples: z.number().int().min(0),
      durationMs: z.number().min(0).nullable(),
      /** samples / round wall time; null when the time is unknown or zero. */
      samplesPerSecond: z.number().min(0).nullable(),
      accuracy: z.number(),
    }),
  ),
  /** Rounds grouped by participant count: median throughput, most participants first. */
  scale: z.array(z.object({ participants: z.number().int().min(0), rounds: z.number().int().min(1), samplesPerSecond: z.number().min(0) })),
});
export type ContributionsReport = z.infer<typeof contributionsResponse>;

/** Where a run's starting weights came from (Run.origin); null/absent = fresh initial weights. */
export const runOriginSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('checkpoint'), runId: z.string(), round: z.number().int().min(0) }),
  z.object({ kind: z.literal('import'), name: z.string() }),
]);
export type RunOrigin = z.infer<typeof runOriginSchema>;

/** An imported weights.bin holds at most the spec limit's float32 values. */
export const MAX_IMPORT_WEIGHT_BYTES = 4 * MAX_PARAMS;
/** model.json (topology + manifest) as JSON text; ours are a few KiB. */
export const MAX_IMPORT_MODEL_JSON_BYTES = 256 * 1024;
/** The import body: base64 of the largest weights plus model.json and slack. */
export const MAX_IMPORT_BODY_BYTES = Math.ceil(MAX_IMPORT_WEIGHT_BYTES / 3) * 4 + MAX_IMPORT_MODEL_JSON_BYTES + 4096;

/**
 * POST /api/projects/:slug/import: a TensorFlow.js layers model (model.json as parsed JSON and
 * weights.bin in base64) to store as a finished run with one checkpoint (round 0).
 */
export const importModelRequest = z.object({
  name: z.string().trim().min(1, 'Give the imported model a name').max(80),
  modelJson: z.record(z.string(), z.unknown()),
  weightsBase64: z
    .string()
    .min(1, 'weights.bin is empty')
    .max(Math.ceil(MAX_IMPORT_WEIGHT_BYTES / 3) * 4, `weights.bin is larger than ${MAX_IMPORT_WEIGHT_BYTES / 1e6} MB (${MAX_PARAMS.toLocaleString('en')} parameters)`)
    .regex(/^[A-Za-z0-9+/]*={0,2}$/, 'weights.bin must be sent in base64'),
});
export type ImportModelRequest = z.infer<typeof importModelRequest>;
export const importModelResponse = z.object({ runId: z.string(), loss: z.number(), accuracy: z.number() });

// ---- classroom: roles, spec lock, reset, projector ----------------------------------------------

/** A member as the project's API shows it (the owner's members list, the projector's names). */
export const memberInfo = z.object({
  id: z.string(),
  /** Null for a member the owner hid from the projector, unless the owner asks. */
  name: z.string().nullable(),
  role: roleSchema,
  hidden: z.boolean(),
});
export type MemberInfo = z.infer<typeof memberInfo>;
/** GET /api/projects/:slug/members (any member). */
export const membersResponse = z.object({ members: z.array(memberInfo) });

/** POST /api/projects/:slug/members/:memberId (owner): rename, change member ↔ viewer, hide on the projector. */
export const updateMemberRequest = z
  .object({
    name: z.string().trim().min(1, 'Enter a display name').max(40).optional(),
    role: z.enum(['member', 'viewer']).optional(),
    hidden: z.boolean().optional(),
  })
  .refine((b) => b.name !== undefined || b.role !== undefined || b.hidden !== undefined, 'Say what to change: name, role or hidden');
export const updateMemberResponse = z.object({ member: memberInfo });

/**
 * DELETE /api/projects/:slug (owner): deletes the project and all its data. The body repeats the
 * project's name, so a stray request cannot delete it.
 */
export const deleteProjectRequest = z.object({ confirmName: z.string().min(1).max(200) });
export const deleteProjectResponse = z.object({ deleted: z.literal(true) });
/** POST /api/projects/:slug/leave (member, viewer): leave; contributions stay, anonymised. */
export const leaveProjectResponse = z.object({ left: z.literal(true) });

/** POST /api/projects/:slug/lock (owner): while locked only the owner edits the shared spec. */
export const lockRequest = z.object({ locked: z.boolean() });
export const lockResponse = z.object({ specLocked: z.boolean() });

/**
 * POST /api/projects/:slug/reset (owner): stops the active run (if any) and clears the live run
 * from every screen, so the next Train starts from fresh weights. Stored runs stay in the history.
 */
export const resetResponse = z.object({ stoppedRunId: z.string().nullable() });
