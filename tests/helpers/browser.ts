/**
 * Chromium flags for every browser test: no sandbox (containers), no background traffic, and
 * WebGL through SwiftShader so training has a GPU backend on machines without one.
 */
export const LAUNCH_ARGS = [
  '--no-sandbox',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--use-angle=swiftshader',
  '--enable-unsafe-swiftshader',
];
