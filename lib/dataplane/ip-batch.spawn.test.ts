import { describe, expect, it } from 'vitest';
import { startIpBatch } from './ip-batch';

// A batch in dialogue: iproute2 answers each exchange while the process keeps running. Only
// `show` commands and a `set` of a link that does not exist, in this process's own namespace:
// nothing is changed.

const options = { json: true, force: true, timeoutMs: 5000, step: 'test' };

describe('startIpBatch exchange', () => {
  it('attributes a failed line and a printed one, then numbers the final lines after them', async () => {
    const batch = startIpBatch(options);
    const first = await batch.exchange([
      { command: 'link set dev dpt-absent0 up' },
      { command: 'link show dev lo', prints: true },
    ]);
    // The answer is the JSON line on stdout; the failure before it, on stderr, is seen too.
    expect(first.lines[0]).toMatchObject({ status: 'failed' });
    expect(first.lines[0]?.status === 'failed' && first.lines[0].error).toContain(
      'Cannot find device',
    );
    expect(first.lines[1]?.status === 'ok' && first.lines[1].output).toContain('"ifname":"lo"');

    const last = await batch.run([
      { command: 'link show dev dpt-absent1', prints: true },
      { command: 'link show dev lo', prints: true },
    ]);
    expect(last.lines.map((l) => l.status)).toEqual(['failed', 'ok']);
    expect(last.lines[0]?.status === 'failed' && last.lines[0].error).toContain('dpt-absent1');
  });

  it('refuses an exchange that ends without a printing command (no answer would come)', async () => {
    const batch = startIpBatch(options);
    await expect(batch.exchange([{ command: 'link show dev lo' }])).rejects.toThrow(
      'must end with a printing command',
    );
    batch.cancel();
  });
});
