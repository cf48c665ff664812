import { z } from 'zod';
import {
  createProjectResponse,
  joinResponse,
  ticketResponse,
  trainResponse,
  RUN_STATUSES,
  type ErrorCode,
  type TemplateName,
} from '@/server/protocol';

// The page's CSP forbids eval; without this, zod probes `new Function` to compile fast parsers
// (a harmless but reported CSP violation) and then falls back anyway.
z.config({ jitless: true });

/** An HTTP API failure with the server's error code (or a client-side one). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode | 'network' | 'unexpected',
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

const errorBody = z.object({
  error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }),
});

async function request<T extends z.ZodType>(
  method: 'GET' | 'POST',
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
      headers: method === 'POST' ? { 'content-type': 'application/json', ...headers } : headers,
      body: method === 'POST' ? JSON.stringify(body ?? {}) : undefined,
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
      throw new ApiError(res.status, code as ErrorCode, message, details);
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
});
export type RunSummary = z.infer<typeof runSummarySchema>;

const memberSchema = ticketResponse.shape.member;
export type Member = z.infer<typeof memberSchema>;

export const projectResponse = z.object({
  project: z.object({ slug: z.string(), name: z.string(), joinCode: z.string().nullable() }),
  member: memberSchema,
  runs: z.array(runSummarySchema),
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

export const api = {
  createProject: (name: string, ownerName: string, template?: TemplateName) =>
    request('POST', '/api/projects', createProjectResponse, { name, ownerName: ownerName || undefined, template }),
  join: (code: string, name: string) => request('POST', '/api/join', joinResponse, { code, name }),
  ticket: (slug: string) => request('POST', `/api/projects/${enc(slug)}/ticket`, ticketResponse, {}),
  project: (slug: string) => request('GET', `/api/projects/${enc(slug)}`, projectResponse),
  /** Starts a run with the current spec; `restart` stops the active run first. */
  train: (slug: string, options: { restart?: boolean } = {}) => request('POST', `/api/projects/${enc(slug)}/train`, trainResponse, options),
  /** Turns an owner/member token (from an owner link) into this browser's session cookie. */
  session: (slug: string, token: string) =>
    request('POST', `/api/projects/${enc(slug)}/session`, z.object({ slug: z.string(), member: memberSchema }), {}, { authorization: `Bearer ${token}` }),
  run: (slug: string, runId: string) => request('GET', `/api/projects/${enc(slug)}/runs/${enc(runId)}`, runDetailResponse),
  /** Owner controls for the active run. */
  controlRun: (slug: string, runId: string, action: 'pause' | 'resume' | 'stop') =>
    request('POST', `/api/projects/${enc(slug)}/runs/${enc(runId)}/${action}`, z.object({ runId: z.string(), action: z.string() }), {}),
};

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
