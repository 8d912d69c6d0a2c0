import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runHarness } from './harness';
import type { ItemResult } from './outcome';

// A plugin that gets everything wrong: a log line before its VERSION answer, too few versions,
// and an error object with exit 0 for every other command. Run without namespaces, so the test
// needs no root and the stub touches nothing.
const BROKEN = `#!/bin/sh
case "$CNI_COMMAND" in
VERSION) echo 'debug: version'; echo '{"cniVersion":"1.0.0","supportedVersions":["1.0.0"]}' ;;
*) echo '{"code":4,"msg":"nope"}' ;;
esac
`;

const dir = mkdtempSync(join(tmpdir(), 'cnf-test-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Run the harness against a stub script and index the results by item. */
async function runStub(script: string): Promise<Map<string, ItemResult>> {
  const plugin = join(dir, 'stub');
  writeFileSync(plugin, script);
  chmodSync(plugin, 0o755);
  const items = await runHarness({ plugin, kind: 'main', useNamespaces: false });
  return new Map(items.map((i) => [i.id, i]));
}

describe('the harness against a broken plugin', () => {
  it('fails the items the plugin violates and says why', async () => {
    const items = await runStub(BROKEN);
    const status = (id: string): string | undefined => items.get(id)?.outcome.status;
    for (const id of ['A2', 'A3', 'A9', 'A12', 'B21', 'B24', 'C35', 'C36', 'J94', 'J95', 'J96']) {
      expect(status(id), id).toBe('fail');
    }
    const a3 = items.get('A3')?.outcome;
    expect(a3?.status === 'fail' && a3.reason).toMatch(
      /want code 4 .*got exit 0 code 4 msg "nope"/,
    );
    const c36 = items.get('C36')?.outcome;
    expect(c36?.status === 'fail' && c36.reason).toMatch(/lacks 0\.3\.0, 0\.3\.1, 0\.4\.0/);
  });

  it('reports items that need namespaces as n/a with the reason', async () => {
    const items = await runStub(BROKEN);
    for (const id of ['A6', 'A17', 'B27', 'B31', 'B34']) {
      expect(items.get(id)?.outcome, id).toEqual({
        status: 'n/a',
        reason: 'needs root for network namespaces',
      });
    }
  });
});
