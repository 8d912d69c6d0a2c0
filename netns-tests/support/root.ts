import { existsSync } from 'node:fs';
import { describe, it } from 'vitest';

// These tests need root (network namespaces) and iproute2, util-linux's nsenter, procps' sysctl
// and iputils' ping. Without them a suite is skipped loudly, and on CI (CI=true) it fails instead:
// a CI job that silently ran nothing would look green.

const TOOLS = ['ip', 'nsenter', 'sysctl', 'ping'];
const DIRS = ['/usr/sbin', '/sbin', '/usr/bin', '/bin'];

function missingPrerequisite(): string | undefined {
  const uid = process.getuid?.();
  if (uid !== 0) return `they need root to create network namespaces (uid is ${uid ?? 'unknown'})`;
  const missing = TOOLS.filter((t) => !DIRS.some((d) => existsSync(`${d}/${t}`)));
  if (missing.length > 0) return `${missing.join(', ')} not installed`;
  return undefined;
}

/**
 * `describe` for root-only suites: skipped with a loud warning, or failing when CI=true. `missing`
 * names a further prerequisite the suite lacks (a package, a binary that failed to build).
 */
export function describeAsRoot(
  name: string,
  body: () => void,
  options: { missing?: string | undefined } = {},
): void {
  const reason = missingPrerequisite() ?? options.missing;
  if (reason === undefined) {
    describe(name, body);
    return;
  }
  if (process.env.CI === 'true') {
    describe(name, () => {
      it('has its prerequisites', () => {
        throw new Error(
          `netns suite "${name}" cannot run: ${reason} (CI=true turns the skip into a failure)`,
        );
      });
    });
    return;
  }
  process.stderr.write(`\n!!!!!!!! SKIPPED netns suite "${name}": ${reason}. !!!!!!!!\n\n`);
  describe.skip(name, body);
}
