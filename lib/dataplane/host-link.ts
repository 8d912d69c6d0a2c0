import { CniError, ErrorCode } from '../cni/errors';
import { describeArgv, runCommand, tool } from './command';

/** Delete a link of the caller's namespace; a link already gone is fine. */
export async function deleteHostLink(
  host: string,
  options: { timeoutMs: number; step: string },
): Promise<void> {
  const argv = [tool('ip'), 'link', 'del', 'dev', host];
  const result = await runCommand(argv, options);
  if (result.code !== 0 && !result.stderr.includes('Cannot find device')) {
    throw new CniError(
      ErrorCode.dataplaneFailed,
      `${options.step}: ${describeArgv(argv)} failed: ${result.stderr.trim()}`,
    );
  }
}
