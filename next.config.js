/** @type {import('next').NextConfig} */
const nextConfig = {
  reactStrictMode: true,
  // The custom server (server/index.ts) owns the HTTP server; Next only renders pages.
  poweredByHeader: false,
  // NEXT_DIST_DIR lets parallel checkouts of work build side by side (default .next).
  distDir: process.env.NEXT_DIST_DIR || '.next',
  // `npm test` type-checks the whole project (pages, server, workers, tests) with tsc; the
  // production build skips its own pass so a start never fails on, say, a test file's types.
  typescript: { ignoreBuildErrors: true },
  // Server-only packages the app router must not try to bundle.
  serverExternalPackages: ['better-sqlite3', '@prisma/client', 'pino'],
};

export default nextConfig;
