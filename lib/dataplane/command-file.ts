import { closeSync, constants, openSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// A file without a name for a batch of iproute2 commands that another process reads through
// /proc/self/fd/N: the pod end's commands, which the host's `ip -batch` runs in the pod netns
// with `netns exec POD ip -batch /proc/self/fd/4`. A pipe would let that reader start before the
// commands are known, but Node cannot make one (its stdio pipes are socket pairs, which
// /proc/self/fd cannot reopen); an unnamed file leaves nothing behind, whatever happens.

/** Linux's O_TMPFILE: __O_TMPFILE (the same on x86 and arm) with the platform's O_DIRECTORY. */
const O_TMPFILE = 0o20000000 | constants.O_DIRECTORY;

/** An open file of commands. */
export interface CommandFile {
  /** Its descriptor, to pass to a child. */
  readonly fd: number;
  /** Writes the whole file (once). */
  write: (text: string) => void;
  /** Closes it here (a child keeps its own descriptor); later calls do nothing. */
  close: () => void;
}

/**
 * Opens an unnamed file in `dir` (default: the system's temporary directory): O_TMPFILE, or on a
 * file system without it a new file unlinked at once.
 */
export function openCommandFile(dir: string = tmpdir()): CommandFile {
  const fd = openUnnamed(dir);
  let open = true;
  return {
    fd,
    write: (text) => {
      const bytes = Buffer.from(text);
      let done = 0;
      while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done, done);
    },
    close: () => {
      if (!open) return;
      open = false;
      closeSync(fd);
    },
  };
}

function openUnnamed(dir: string): number {
  try {
    return openSync(dir, O_TMPFILE | constants.O_RDWR, 0o600);
  } catch (err) {
    // EOPNOTSUPP (no O_TMPFILE here), EISDIR (a kernel older than 3.11): a name, briefly.
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EOPNOTSUPP' && code !== 'EISDIR' && code !== 'EINVAL') throw err;
  }
  const path = join(dir, `.calico-commands-${process.pid}-${Math.random().toString(36).slice(2)}`);
  const fd = openSync(path, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL, 0o600);
  unlinkSync(path);
  return fd;
}
