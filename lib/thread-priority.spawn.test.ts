import { spawnSync } from 'node:child_process';
import { getPriority } from 'node:os';
import { describe, expect, it } from 'vitest';
import { runCommand } from './dataplane/command';
import { RAISED_BY, raiseThreadPriority } from './thread-priority';

// A raised thread (the host lock's holder) forks its children at the priority it was given, and
// goes back to it when the raise is undone. Raising needs CAP_SYS_NICE: CI runs as root.
const root = process.getuid?.() === 0;

/** The niceness `nice` (coreutils) reports in a child forked the way the plugins fork. */
async function childNiceness(): Promise<number> {
  const out = await runCommand(['/usr/bin/nice'], { timeoutMs: 5000, step: 'test' });
  return Number(out.stdout.trim());
}

describe('raiseThreadPriority', () => {
  it.runIf(root)('raises the thread, forks children at base, and lowers it on undo', async () => {
    const base = getPriority();
    const lower = raiseThreadPriority();
    try {
      expect(getPriority()).toBe(Math.max(-20, base - RAISED_BY));
      expect(await childNiceness()).toBe(base);
      // Still raised after the fork.
      expect(getPriority()).toBe(Math.max(-20, base - RAISED_BY));
      // A fork that does not go through forkAtBasePriority inherits the raise: the check above
      // is not vacuous.
      const direct = spawnSync('/usr/bin/nice', { encoding: 'utf8' });
      expect(Number(direct.stdout.trim())).toBe(Math.max(-20, base - RAISED_BY));
    } finally {
      lower();
    }
    expect(getPriority()).toBe(base);
    lower();
    expect(getPriority()).toBe(base);
  });

  it.runIf(root)('does nothing inside a raise already made', () => {
    const base = getPriority();
    const outer = raiseThreadPriority();
    const inner = raiseThreadPriority();
    inner();
    expect(getPriority()).toBe(Math.max(-20, base - RAISED_BY));
    outer();
    expect(getPriority()).toBe(base);
  });
});
