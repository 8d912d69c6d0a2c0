import { readFileSync } from 'node:fs';

// A burst measures what 100 ADDs cost the node's CPUs, so it must not start while the kernel is
// still tearing down the network namespaces of the previous burst (netns cleanup runs in kernel
// workers, seconds after the DELs returned) or while the shared VM is busy with anything else.

/** Busy and total jiffies of all CPUs so far, from the first line of /proc/stat. */
function cpuJiffies(): { busy: number; total: number } {
  const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '')
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  // idle and iowait
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  return { busy: total - idle, total };
}

/**
 * Waits until the CPUs were at most `busyAtMost` busy over one `sampleMs` window, or `maxMs`
 * passed; resolves with the milliseconds waited.
 */
export async function waitForQuiet(
  options: { busyAtMost?: number; sampleMs?: number; maxMs?: number } = {},
): Promise<number> {
  const { busyAtMost = 0.15, sampleMs = 250, maxMs = 10_000 } = options;
  const started = Date.now();
  let before = cpuJiffies();
  while (Date.now() - started < maxMs) {
    await new Promise((resolve) => setTimeout(resolve, sampleMs));
    const now = cpuJiffies();
    const total = now.total - before.total;
    if (total > 0 && (now.busy - before.busy) / total <= busyAtMost) break;
    before = now;
  }
  return Date.now() - started;
}
