import { runCalicoctl } from '../program';

/** What one calicoctl run printed and returned. */
export interface CliRun {
  status: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the real calicoctl command tree in-process (no bundle, no spawn) with `--endpoints
 * endpoint` unless `endpoint` is undefined; `env` replaces the process environment.
 */
export async function calicoctl(
  endpoint: string | undefined,
  args: readonly string[],
  options: { stdin?: string; env?: Record<string, string> } = {},
): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const status = await runCalicoctl(
    [...(endpoint === undefined ? [] : ['--endpoints', endpoint]), ...args],
    {
      out: (text) => (stdout += text),
      err: (text) => (stderr += text),
      env: options.env ?? {},
      readStdin: () => Promise.resolve(options.stdin ?? ''),
    },
  );
  return { status, stdout, stderr };
}
