import { describe, it } from 'vitest';
import { etcdMissingReason } from './etcd-server';

/**
 * `describe` for suites that need a real etcd: skipped with a loud warning when the binary is
 * missing, except under CI=true, where a missing etcd is a failure rather than a silent skip.
 */
export function describeWithEtcd(name: string, body: () => void): void {
  const reason = etcdMissingReason();
  if (reason === undefined) {
    describe(name, body);
    return;
  }
  if (process.env.CI === 'true') {
    describe(name, () => {
      it('has a real etcd to test against', () => {
        throw new Error(`etcd tests cannot run: ${reason} (CI=true, so this fails)`);
      });
    });
    return;
  }
  process.stderr.write(`\n!!! SKIPPING etcd suite "${name}": ${reason}\n\n`);
  describe.skip(name, body);
}
