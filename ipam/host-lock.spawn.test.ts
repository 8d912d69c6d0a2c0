import { spawn, type ChildProcess } from 'node:child_process';
import { connect, createServer, type Socket } from 'node:net';
import { getPriority } from 'node:os';
import { describe, expect, it } from 'vitest';
import { exitHeld } from '../lib/process-exit';
import { RAISED_BY } from '../lib/thread-priority';
import { acquireHostLock, hostLockBusy, lockAttempts } from './host-lock';

const lockPath = `/tmp/test-ipam-${process.pid}.lock`;

describe('hostLockBusy', () => {
  it('tells a held lock from a free one, and a released one is free again', async () => {
    expect(await hostLockBusy(lockPath)).toBe(false);
    const lock = await acquireHostLock(lockPath, { waitMs: 1000 });
    expect(await hostLockBusy(lockPath)).toBe(true);
    await lock.release();
    expect(await hostLockBusy(lockPath)).toBe(false);
  });
});

describe('acquireHostLock', () => {
  it('raises the holder while it holds the lock, and not after', async () => {
    const before = getPriority();
    const lock = await acquireHostLock(lockPath, { waitMs: 1000 });
    // Root (CI, and the runtimes that run CNI plugins) may raise it; others keep theirs.
    const raised = process.getuid?.() === 0 ? Math.max(-20, before - RAISED_BY) : before;
    expect(getPriority()).toBe(raised);
    await lock.release();
    expect(getPriority()).toBe(before);
  });

  it('reads a wake-up that comes in the same chunk as the answer to its registration', async () => {
    // A holder that answers and releases at once: both lines reach the waiter in one chunk.
    const holder = createServer((socket) => {
      socket.once('data', () => {
        holder.close();
        socket.end(`""\n${JSON.stringify(['go', '', ['10.1.0.0/26']])}\n`);
      });
    });
    await new Promise<void>((resolve) => holder.listen(`\0calico-ipam-lock:${lockPath}`, resolve));
    const lock = await acquireHostLock(lockPath, { waitMs: 2000 });
    try {
      expect(lock.held).toBe(true);
      expect(lock.waited).toBe(true);
      // Taken from the wake-up, not as a fresh holder after a queue it took for broken.
      expect(lock.handedOver).toEqual(['10.1.0.0/26']);
    } finally {
      await lock.release();
    }
  });

  it("puts a waiter that brings the queue's tail along right behind the holder", async () => {
    const lock = await acquireHostLock(lockPath, { waitMs: 1000 });
    const sockets: Socket[] = [];
    /** Registers `[node, tail]` as a waiter would, and returns whom the holder says to wait on. */
    const register = (node: string, tail: string): Promise<unknown> =>
      new Promise((resolve, reject) => {
        const socket = connect(`\0calico-ipam-lock:${lockPath}`);
        sockets.push(socket);
        socket.once('error', reject);
        socket.once('data', (chunk: Buffer) => {
          resolve(JSON.parse(chunk.toString().split('\n')[0] ?? ''));
        });
        socket.write(`${JSON.stringify([node, tail])}\n`);
      });
    try {
      expect(await register('waiter-x', '')).toBe('');
      // A waiter that lost the name comes back with the queue behind it, ending at waiter-x:
      // waiting on waiter-x, it would wait on its own followers.
      expect(await register('waiter-r', 'waiter-x')).toBe('');
      // The queue still ends at waiter-x.
      expect(await register('waiter-n', '')).toBe('waiter-x');
    } finally {
      for (const socket of sockets) socket.destroy();
      await lock.release();
    }
  });

  it('hands a large state to its successor intact, characters split across chunks included', async () => {
    const first = await acquireHostLock(lockPath, { waitMs: 1000 });
    const second = acquireHostLock(lockPath, { waitMs: 5000 });
    await new Promise((r) => setTimeout(r, 100));
    // ~600 KB of two- and three-byte characters: many socket chunks, some cut mid-character.
    const state = `${'é✓'.repeat(120_000)}end`;
    await first.release(['10.1.0.0/26'], state);
    const lock = await second;
    try {
      expect(lock.handedOver).toEqual(['10.1.0.0/26']);
      expect(lock.handedState === state).toBe(true);
    } finally {
      await lock.release();
    }
    // A holder that took the lock free has nothing handed over.
    const alone = await acquireHostLock(lockPath, { waitMs: 1000 });
    expect(alone.handedState).toBeUndefined();
    await alone.release();
  });

  it.each([
    ['ASCII', 'x'.repeat((1 << 20) + 1)],
    // Fewer than 1 Mi characters, but 1.2 MB on the wire, where the successor measures it.
    ['three-byte characters', '✓'.repeat(400_000)],
  ])('hands no state over 1 MiB (%s), and the blocks all the same', async (_, state) => {
    const first = await acquireHostLock(lockPath, { waitMs: 1000 });
    const second = acquireHostLock(lockPath, { waitMs: 5000 });
    await new Promise((r) => setTimeout(r, 100));
    await first.release(['10.1.0.0/26'], state);
    const lock = await second;
    try {
      expect(lock.handedOver).toEqual(['10.1.0.0/26']);
      expect(lock.handedState).toBeUndefined();
    } finally {
      await lock.release();
    }
    // Once the handover is over, the lock is free to take without a wait.
    await (await acquireHostLock(lockPath, { waitMs: 1000 })).release();
  });

  it('calls onWait once when the lock is held, and never when it is free', async () => {
    let waits = 0;
    const onWait = () => {
      waits++;
    };
    const first = await acquireHostLock(lockPath, { waitMs: 1000, onWait });
    expect(waits).toBe(0);
    const second = acquireHostLock(lockPath, { waitMs: 2000, onWait });
    await new Promise((r) => setTimeout(r, 100));
    expect(waits).toBe(1);
    await first.release();
    await (await second).release();
    expect(waits).toBe(1);
    await (await acquireHostLock(lockPath, { waitMs: 1000 })).release();
  });

  it('lets one holder in at a time and the next one in after release', async () => {
    const first = await acquireHostLock(lockPath, { waitMs: 1000 });
    expect(first.held).toBe(true);
    const second = acquireHostLock(lockPath, { waitMs: 2000 });
    let secondHeld = false;
    void second.then((l) => (secondHeld = l.held));
    await new Promise((r) => setTimeout(r, 100));
    expect(secondHeld).toBe(false);
    const released = Date.now();
    await first.release();
    const lock = await second;
    expect(lock.held).toBe(true);
    expect(first.waited).toBe(false);
    expect(lock.waited).toBe(true);
    // The waiter is woken by the release itself, not by a polling interval.
    expect(Date.now() - released).toBeLessThan(50);
    await lock.release();
  });

  it("holds the plugin's exit after a release until the successor holds the lock, not without one", async () => {
    const alone = await acquireHostLock(lockPath, { waitMs: 1000 });
    await alone.release();
    expect(exitHeld()).toBe(false);
    const first = await acquireHostLock(lockPath, { waitMs: 1000 });
    const second = acquireHostLock(lockPath, { waitMs: 2000 });
    await new Promise((r) => setTimeout(r, 100));
    await first.release();
    // Its wake-up may still be queued, and it keeps the name from newcomers meanwhile.
    expect(exitHeld()).toBe(true);
    const lock = await second;
    expect(lock.held).toBe(true);
    for (let i = 0; i < 100 && exitHeld(); i++) await new Promise((r) => setTimeout(r, 10));
    expect(exitHeld()).toBe(false);
    await lock.release();
  });

  it('hands what the holder hands over to its successor, and nothing to a first holder', async () => {
    const first = await acquireHostLock(lockPath, { waitMs: 1000 });
    expect(first.handedOver).toEqual([]);
    const second = acquireHostLock(lockPath, { waitMs: 2000 });
    await new Promise((r) => setTimeout(r, 100));
    await first.release(['10.1.0.0/26', 'x'.repeat(65), '10.1.0.64/26']);
    const lock = await second;
    expect(lock.waited).toBe(true);
    // Over-long strings are not passed on.
    expect(lock.handedOver).toEqual(['10.1.0.0/26', '10.1.0.64/26']);
    await lock.release();
    const alone = await acquireHostLock(lockPath, { waitMs: 1000 });
    expect(alone.handedOver).toEqual([]);
    await alone.release();
  });

  it('hands the lock to every one of many waiters in turn', async () => {
    const order: number[] = [];
    let inside = 0;
    await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const lock = await acquireHostLock(lockPath, { waitMs: 10_000 });
        expect(lock.held).toBe(true);
        inside++;
        expect(inside).toBe(1);
        await new Promise((r) => setTimeout(r, 2));
        order.push(i);
        inside--;
        await lock.release();
      }),
    );
    expect(order.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('gives up after the bounded wait and reports that it does not hold the lock', async () => {
    const first = await acquireHostLock(lockPath, { waitMs: 100 });
    const started = Date.now();
    const second = await acquireHostLock(lockPath, { waitMs: 200 });
    expect(second.held).toBe(false);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(Date.now() - started).toBeLessThan(1500);
    await first.release();
  });

  it('is freed by the kernel when the holder is killed with SIGKILL', async () => {
    // The child takes the lock under the same name and then hangs until killed.
    const child = spawn(process.execPath, [
      '-e',
      `require('net').createServer().listen('\\0calico-ipam-lock:${lockPath}', () => console.log('held'))`,
    ]);
    await new Promise<void>((resolve) =>
      child.stdout.once('data', () => {
        resolve();
      }),
    );
    expect((await acquireHostLock(lockPath, { waitMs: 50 })).held).toBe(false);
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    const lock = await acquireHostLock(lockPath, { waitMs: 1000 });
    expect(lock.held).toBe(true);
    await lock.release();
  });

  it('queues waiters in arrival order and hands the lock down the queue', async () => {
    const holder = await acquireHostLock(lockPath, { waitMs: 1000 });
    const order: number[] = [];
    const waiters: Promise<void>[] = [];
    for (let i = 0; i < 6; i++) {
      waiters.push(
        acquireHostLock(lockPath, { waitMs: 10_000 }).then(async (lock) => {
          expect(lock.held).toBe(true);
          expect(lock.waited).toBe(true);
          order.push(i);
          await new Promise((r) => setTimeout(r, 5));
          await lock.release();
        }),
      );
      // Registered before the next one arrives.
      await new Promise((r) => setTimeout(r, 30));
    }
    const before = lockAttempts();
    await holder.release();
    await Promise.all(waiters);
    expect(order).toEqual([0, 1, 2, 3, 4, 5]);
    // Each release woke only the next waiter, which took the name at its first try; waking them
    // all would have cost 6 + 5 + 4 + 3 + 2 + 1 tries.
    expect(lockAttempts() - before).toBe(6);
  });

  it('wakes the next waiter at once when the holder is killed mid-queue', async () => {
    const child = holdInChild();
    await child.held;
    const started = Date.now();
    const waiter = acquireHostLock(lockPath, { waitMs: 10_000 });
    await new Promise((r) => setTimeout(r, 200));
    child.process.kill('SIGKILL');
    const lock = await waiter;
    expect(lock.held).toBe(true);
    expect(Date.now() - started).toBeLessThan(1500);
    await lock.release();
  });

  it('does not stall the waiters behind a waiter that dies in the queue', async () => {
    const holder = await acquireHostLock(lockPath, { waitMs: 1000 });
    // The child queues first (it waits on the holder); this process's waiter queues behind it.
    const child = holdInChild();
    await child.queued;
    const behind = acquireHostLock(lockPath, { waitMs: 10_000 });
    await new Promise((r) => setTimeout(r, 200));
    child.process.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 100));
    const released = Date.now();
    await holder.release();
    const lock = await behind;
    expect(lock.held).toBe(true);
    expect(Date.now() - released).toBeLessThan(1000);
    await lock.release();
  });
});

/**
 * A child process that takes the lock (waiting for it if need be) and holds it until killed;
 * `queued` resolves once it has started waiting (or holds), `held` once it holds.
 */
function holdInChild(): { process: ChildProcess; queued: Promise<void>; held: Promise<void> } {
  const script = `
    const m = await import(${JSON.stringify(new URL('./host-lock.ts', import.meta.url).pathname)});
    const { acquireHostLock } = m.acquireHostLock === undefined ? m.default : m;
    setTimeout(() => console.log('queued'), 300);
    const lock = await acquireHostLock(${JSON.stringify(lockPath)}, { waitMs: 30000 });
    console.log('held');
    setInterval(() => lock, 1000);
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  const seen = (word: string): Promise<void> =>
    new Promise((resolve, reject) => {
      child.once('exit', (code) => {
        reject(new Error(`lock child exited (${code}) before saying ${word}`));
      });
      const check = (): void => {
        if (out.includes(word)) resolve();
      };
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        check();
      });
      check();
    });
  const held = seen('held');
  const queued = Promise.race([seen('queued'), held]);
  held.catch(() => undefined);
  queued.catch(() => undefined);
  return { process: child, queued, held };
}
