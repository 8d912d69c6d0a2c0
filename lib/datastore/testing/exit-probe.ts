import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

// Runs exit-probe-main.ts in a fresh Node process and measures how long it lived after close().

/** How the probe process ended. */
export interface ProbeOutcome {
  /** null when it had to be killed because it did not exit on its own. */
  exitCode: number | null;
  /** What the probe printed before its `closed at` line. */
  result: string;
  /** Milliseconds between close() and the process exit. */
  lingeredMs: number;
}

const MAIN = fileURLToPath(new URL('./exit-probe-main.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

/** Runs the probe against `endpoint` with a budget of `seconds`; kills it after 20 s. */
export function runExitProbe(
  transport: string,
  target: { endpoint: string; seconds: number },
): Promise<ProbeOutcome> {
  const { endpoint, seconds } = target;
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', MAIN, transport, endpoint, String(seconds)],
      {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'inherit'],
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      },
    );
    let stdout = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => (stdout += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
    }, 20_000);
    child.on('error', reject);
    child.on('close', (code) => {
      const exitedAt = Date.now();
      clearTimeout(timer);
      const closedAt = /closed at (\d+)\n$/.exec(stdout);
      resolve({
        exitCode: code,
        result: stdout.replace(/closed at \d+\n$/, ''),
        lingeredMs: closedAt?.[1] === undefined ? Infinity : exitedAt - Number(closedAt[1]),
      });
    });
  });
}
