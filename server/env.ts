import { z } from 'zod';

/** Checkpoint retention (see server/training/retention.ts): round 0 and a run's final round are always kept too. */
const retentionEnv = z.object({
  /** The newest per-round checkpoints kept of each run (the newest is what a resume needs). */
  CHECKPOINT_KEEP_LATEST: z.coerce.number().int().min(1).max(1_000_000).default(20),
  /** Every k-th round's checkpoint is kept as well (1 keeps them all). */
  CHECKPOINT_KEEP_EVERY: z.coerce.number().int().min(1).max(1_000_000).default(10),
});

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('production'),
  PORT: z.coerce.number().int().min(0).max(65_535).default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  /** `file:./data/cotrain.db` (SQLite, default) or `postgresql://…`. */
  DATABASE_URL: z
    .string()
    .default('file:./data/cotrain.db')
    .refine((url) => /^(file:|postgres(ql)?:\/\/)/.test(url), 'must start with file: (SQLite) or postgresql://'),
  /** The address people use to reach this server (join links, the projector's QR code); unset: the page's own address. */
  PUBLIC_URL: z.url().optional(),
  /** 1 behind a reverse proxy you run: the client address (join rate limit) comes from X-Forwarded-For. */
  TRUST_PROXY: z.enum(['0', '1']).default('0'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** SQLite commits: normal (survive a process crash; default) or full (fsync each commit: survive power loss too). */
  SQLITE_SYNC: z.enum(['normal', 'full']).default('normal'),
  /** Seed the demo project at start (0 to skip). */
  SEED_DEMO: z.enum(['0', '1']).default('1'),
  ...retentionEnv.shape,
});
export type Env = z.infer<typeof envSchema>;

/** Parses the process environment; on bad config prints what is wrong and throws. */
export function readEnv(source: Record<string, string | undefined> = process.env): Env {
  const parsed = envSchema.safeParse(source);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
  throw new Error(`Invalid configuration:\n${lines.join('\n')}`);
}

/** The checkpoint retention policy from the environment (only those two variables are read). */
export function readRetention(source: Record<string, string | undefined> = process.env): { keepLatest: number; keepEvery: number } {
  const parsed = retentionEnv.safeParse(source);
  if (!parsed.success) throw new Error(`Invalid configuration:\n${parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n')}`);
  return { keepLatest: parsed.data.CHECKPOINT_KEEP_LATEST, keepEvery: parsed.data.CHECKPOINT_KEEP_EVERY };
}
