import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser'];

/**
 * The Chromium the browser tests drive: CHROMIUM_PATH, else Debian's package, installed with
 * apt-get when missing (tests need a real browser; Playwright's own download can't work offline).
 */
export function ensureChromium(log: (line: string) => void = console.log): string {
  const configured = process.env.CHROMIUM_PATH;
  if (configured) {
    if (!existsSync(configured)) throw new Error(`CHROMIUM_PATH=${configured} does not exist`);
    return configured;
  }
  const found = CANDIDATES.find((p) => existsSync(p));
  if (found) return found;
  if (process.getuid?.() !== 0) {
    throw new Error('Chromium is missing. Install it with `sudo apt-get install -y chromium`, or set CHROMIUM_PATH.');
  }
  log('Installing Chromium from Debian packages (once)…');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', 'chromium'], { stdio: 'inherit', env });
  const installed = CANDIDATES.find((p) => existsSync(p));
  if (!installed) throw new Error('apt-get installed chromium but no binary was found');
  return installed;
}
