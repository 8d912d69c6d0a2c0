import { readFileSync, writeSync } from 'node:fs';

/** What the dispatcher reads and writes, injected so it can be driven by unit tests. */
export interface PluginIo {
  env: Readonly<Record<string, string | undefined>>;
  readStdin: () => Promise<Buffer>;
  writeStdout: (text: string) => void;
  writeStderr: (text: string) => void;
}

/** The real process: env, fd 0, and fds 1 and 2 written synchronously. */
export function processIo(): PluginIo {
  return {
    env: process.env,
    readStdin,
    writeStdout: (text) => {
      writeFd(1, text);
    },
    writeStderr: (text) => {
      writeFd(2, text);
    },
  };
}

/** Set once some output went through a stream's queue (see writeFd) and may not be written yet. */
let queuedOutput = false;

// Plain writeSync keeps process.stdout (and the ~30 stream and net modules behind it) unloaded on
// the hot path, and nothing is lost if the runtime kills us right after. A non-blocking fd
// (EAGAIN) falls back to the stream, which queues.
function writeFd(fd: 1 | 2, text: string): void {
  let rest = Buffer.from(text);
  try {
    while (rest.length > 0) rest = rest.subarray(writeSync(fd, rest));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
    queuedOutput = true;
    (fd === 1 ? process.stdout : process.stderr).write(rest);
  }
}

/**
 * Ends the process with `code` once the plugin has answered. Its output is written and its work
 * done (a cancelled ip batch ends by itself at the end of its input), so it exits at once: a
 * natural exit would first tear down V8's heap page by page, ~2-5 ms of every call on a small VM (60 alternating ADDs:
 * 157.8 -> 154.8 ms of CPU, DEL 129.0 -> 125.2 ms). Output still queued in a stream (a
 * non-blocking stdout) is left to drain by the natural exit instead.
 */
export function exitWith(
  code: number,
  exit: (code: number) => void = (c) => process.exit(c),
): void {
  if (queuedOutput) {
    process.exitCode = code;
    return;
  }
  exit(code);
}

async function readStdin(): Promise<Buffer> {
  try {
    // One synchronous read is the cheapest way to take a piped config whole.
    return readFileSync(0);
  } catch (err) {
    // A non-blocking stdin (EAGAIN) needs the stream API; anything else is a real I/O failure.
    if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }
}
