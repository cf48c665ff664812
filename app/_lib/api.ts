import { z } from 'zod';
import {
  contributionsResponse,
  createProjectResponse,
  deleteProjectResponse,
  joinResponse,
  leaveProjectResponse,
  lockResponse,
  membersResponse,
  ownerLinkResponse,
  resetResponse,
  updateMemberResponse,
  ticketResponse,
  trainResponse,
  importModelResponse,
  runOriginSchema,
  RUN_STATUSES,
  type CheckpointRef,
  type ImportModelRequest,
  type ErrorCode,
  type TemplateName,
} from '@/server/protocol';
import { forgetProject, recordProject, type ProjectSighting } from './my-projects';

// The page's CSP forbids eval; without this, zod probes `new Function` to compile fast parsers
// (a harmless but reported CSP violation) and then falls back anyway.
z.config({ jitless: true });

/**
 * An HTTP API failure with the server's error code (or a client-side one). The message is the
 * server's English text; the UI shows a translation by code (app/_lib/error-text.ts).
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode | 'network' | 'unexpected',
    message: string,
    readonly details?: unknown,
    /** Seconds to wait before trying again (HTTP Retry-After), when the server said. */
    readonly retryAfterS?: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

const errorBody = z.object({
  error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }),
});

async function request<T extends z.ZodType>(
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  schema: T,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<z.infer<T>> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      credentials: 'same-origin',
      cache: 'no-store',
      headers: method !== 'GET' ? { 'content-type': 'application/json', ...headers } : headers,
      body: method !== 'GET' ? JSON.stringify(body ?? {}) : undefined,
    });
  } catch {
    throw new ApiError(0, 'network', 'Cannot reach the server. Check your connection and try again.');
  }
  let json: unknown = null;
  try {
    json = await res.json();
  } catch {
    // fall through: handled below
  }
  if (!res.ok) {
    const parsed = errorBody.safeParse(json);
    if (parsed.success) {
      const { code, message, details } = parsed.data.error;
      const retryAfter = Number(res.headers.get('retry-after'));
      throw new ApiError(res.status, code as ErrorCode, message, details, Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined);
    }
    throw new ApiError(res.status, 'unexpected', `The server answered ${res.status}.`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new ApiError(res.status, 'unexpected', 'The server sent an unexpected answer.');
  return parsed.data;
}

export const runSummarySchema = z.object({
  id: z.string(),
  status: z.enum(RUN_STATUSES),
  totalRounds: z.number(),
  lastRound: z.number().nullable().optional(),
  createdAt: z.string(),
  specHash: z.string().nullable().optional(),
  error: z.string().nullable().optional(),
  finishedAt: z.string().nullable().optional(),
  /** Where the run's starting weights came from; null = fresh. */
  origin: runOriginSchema.nullable().optional().catch(null),
});
export type RunSummary = z.infer<typeof runSummarySchema>;

const memberSchema = ticketResponse.shape.member;
export type Member = z.infer<typeof memberSchema>;

export const projectResponse = z.object({
  project: z.object({ slug: z.string(), name: z.string(), joinCode: z.string().nullable(), specLocked: z.boolean().default(false) }),
  member: memberSchema,
  runs: z.array(runSummarySchema),
  /** PUBLIC_URL, for join links; null: use the page's own origin. */
  publicUrl: z.string().nullable().default(null),
});
export type ProjectInfo = z.infer<typeof projectResponse>;

const metricsSchema = z
  .looseObject({ loss: z.number().optional(), accuracy: z.number().optional() })
  .nullable()
  .catch(null);

export const runDetailResponse = z.object({
  run: runSummarySchema,
  rounds: z.array(
    z.object({
      number: z.number(),
      loss: z.number(),
      accuracy: z.number(),
      participants: z.number(),
      samples: z.number(),
    }),
  ),
  checkpoints: z.array(z.object({ round: z.number(), metrics: metricsSchema, createdAt: z.string() })),
});
export type RunDetail = z.infer<typeof runDetailResponse>;

export type Ticket = z.infer<typeof ticketResponse>;

const enc = encodeURIComponent;

/** Notes the project in "My projects" once the server confirmed this browser belongs to it. */
function remember<T>(sighting: (answer: T) => ProjectSighting) {
  return (answer: T): T => {
    recordProject(sighting(answer));
    return answer;
  };
}

export const api = {
  createProject: (name: string, ownerName: string, template?: TemplateName) =>
    request('POST', '/api/projects', createProjectResponse, { name, ownerName: ownerName || undefined, template }).then(
      remember((r) => ({ slug: r.slug, name: name.trim(), role: 'owner' })),
    ),
  /** Joins with the code as a participant (member) or to watch only (viewer). */
  join: (code: string, name: string, role: 'member' | 'viewer' = 'member') =>
    request('POST', '/api/join', joinResponse, { code, name, role }).then(remember((r) => ({ slug: r.slug, role: r.role }))),
  ticket: (slug: string) =>
    request('POST', `/api/projects/${enc(slug)}/ticket`, ticketResponse, {}).then(remember((r) => ({ slug, role: r.member.role }))),
  project: (slug: string) =>
    request('GET', `/api/projects/${enc(slug)}`, projectResponse).then(
      remember((r) => ({ slug: r.project.slug, name: r.project.name, role: r.member.role })),
    ),
  /** Starts a run with the current spec; `restart` stops the active run first; `from` starts from a checkpoint's weights. */
  train: (slug: string, options: { restart?: boolean; from?: CheckpointRef } = {}) => request('POST', `/api/projects/${enc(slug)}/train`, trainResponse, options),
  /** A checkpoint file in TensorFlow.js layers format (the cookie authenticates a plain link). */
  checkpointFileUrl: (slug: string, runId: string, round: number, file: 'model.json' | 'weights.bin') =>
    `/api/projects/${enc(slug)}/runs/${enc(runId)}/checkpoints/${round}/${file}`,
  /** Owner only: uploads a TensorFlow.js layers model as a new finished run; `onProgress` gets the sent share (0…1). */
  importModel: (slug: string, body: ImportModelRequest, onProgress: (share: number) => void) => upload(`/api/projects/${enc(slug)}/import`, body, importModelResponse, onProgress),
  /** Turns an owner/member token (from an owner link) into this browser's session cookie. */
  session: (slug: string, token: string) =>
    request('POST', `/api/projects/${enc(slug)}/session`, z.object({ slug: z.string(), member: memberSchema }), {}, { authorization: `Bearer ${token}` }).then(
      remember((r) => ({ slug: r.slug, role: r.member.role })),
    ),
  /** Owner only: a new owner link token; the old one stops working, this browser stays signed in. */
  rotateOwnerLink: (slug: string) => request('POST', `/api/projects/${enc(slug)}/owner-link`, ownerLinkResponse, {}),
  run: (slug: string, runId: string) => request('GET', `/api/projects/${enc(slug)}/runs/${enc(runId)}`, runDetailResponse),
  /** Who did what in a run, and its throughput per round. */
  contributions: (slug: string, runId: string) => request('GET', `/api/projects/${enc(slug)}/runs/${enc(runId)}/contributions`, contributionsResponse),
  /** Everyone in the project with their role; names the owner hid come back null to others. */
  members: (slug: string) => request('GET', `/api/projects/${enc(slug)}/members`, membersResponse),
  /** Owner only: rename a member, switch member ↔ viewer, or hide their name on the projector. */
  updateMember: (slug: string, memberId: string, patch: { name?: string; role?: 'member' | 'viewer'; hidden?: boolean }) =>
    request('POST', `/api/projects/${enc(slug)}/members/${enc(memberId)}`, updateMemberResponse, patch),
  /** Owner only: removes a member (their token stops working, their connections close). */
  revokeMember: (slug: string, memberId: string) => request('POST', `/api/projects/${enc(slug)}/members/${enc(memberId)}/revoke`, z.object({ memberId: z.string() }), {}),
  /** Owner only: while locked only the owner edits the shared spec. */
  lockSpec: (slug: string, locked: boolean) => request('POST', `/api/projects/${enc(slug)}/lock`, lockResponse, { locked }),
  /** Owner only: stops the active run and clears the live charts; the next Train starts fresh. */
  reset: (slug: string) => request('POST', `/api/projects/${enc(slug)}/reset`, resetResponse, {}),
  /** Owner only: deletes the project and all its data; `confirmName` repeats its name. This browser forgets it. */
  deleteProject: (slug: string, confirmName: string) =>
    request('DELETE', `/api/projects/${enc(slug)}`, deleteProjectResponse, { confirmName }).then((r) => {
      forgetProject(slug);
      return r;
    }),
  /** Members and viewers: leave the project (sign-in ends, contributions stay anonymised). This browser forgets it. */
  leaveProject: (slug: string) =>
    request('POST', `/api/projects/${enc(slug)}/leave`, leaveProjectResponse, {}).then((r) => {
      forgetProject(slug);
      return r;
    }),
  /** Owner controls for the active run. */
  controlRun: (slug: string, runId: string, action: 'pause' | 'resume' | 'stop') =>
    request('POST', `/api/projects/${enc(slug)}/runs/${enc(runId)}/${action}`, z.object({ runId: z.string(), action: z.string() }), {}),
};

/**
 * A JSON POST with upload progress (fetch cannot report it): XMLHttpRequest, answered like
 * `request` (the same ApiError codes on failure, the answer parsed with `schema`).
 */
function upload<T extends z.ZodType>(path: string, body: unknown, schema: T, onProgress: (share: number) => void): Promise<z.infer<T>> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', path);
    xhr.setRequestHeader('content-type', 'application/json');
    xhr.responseType = 'text';
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable && event.total > 0) onProgress(event.loaded / event.total);
    };
    xhr.onerror = () => reject(new ApiError(0, 'network', 'Cannot reach the server. Check your connection and try again.'));
    xhr.onload = () => {
      let json: unknown = null;
      try {
        json = JSON.parse(xhr.responseText);
      } catch {
        // handled below
      }
      if (xhr.status < 200 || xhr.status >= 300) {
        const parsed = errorBody.safeParse(json);
        if (parsed.success) return reject(new ApiError(xhr.status, parsed.data.error.code as ErrorCode, parsed.data.error.message, parsed.data.error.details));
        return reject(new ApiError(xhr.status, 'unexpected', `The server answered ${xhr.status}.`));
      }
      const parsed = schema.safeParse(json);
      if (!parsed.success) return reject(new ApiError(xhr.status, 'unexpected', 'The server sent an unexpected answer.'));
      onProgress(1);
      resolve(parsed.data);
    };
    xhr.send(JSON.stringify(body));
  });
}

/** A readable message for any thrown value. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}

const NAME_KEY = 'cotrain.displayName';

/** The display name this browser used last, to prefill forms. */
export function rememberedName(): string {
  try {
    return localStorage.getItem(NAME_KEY) ?? '';
  } catch {
    return '';
  }
}

export function rememberName(name: string): void {
  try {
    localStorage.setItem(NAME_KEY, name.trim());
  } catch {
    // storage may be unavailable (private mode); not important
  }
}
