/** @type {import('next').NextConfig} */
const nextConfig = {
  reactStrictMode: true,
  // The custom server (server/index.ts) owns the HTTP server; Next only renders pages.
  poweredByHeader: false,
  // Server-only packages the app router must not try to bundle.
  serverExternalPackages: ['better-sqlite3', '@prisma/client', 'pino'],
};

export default nextConfig;
