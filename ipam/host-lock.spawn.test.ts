import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { acquireHostLock, hostLockBusy } from './host-lock';

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
});
