import { readFileSync, writeSync } from 'node:fs';
import { holdExit } from '../process-exit';

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

// Plain writeSync keeps process.stdout (and the ~30 stream and net modules behind it) unloaded on
// the hot path, and nothing is lost if the runtime kills us right after. A non-blocking fd
// (EAGAIN) falls back to the stream, which queues.
function writeFd(fd: 1 | 2, text: string): void {
  let rest = Buffer.from(text);
  try {
    while (rest.length > 0) rest = rest.subarray(writeSync(fd, rest));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
    // The stream writes it later: the process must not end before (see process-exit.ts).
    holdExit();
    (fd === 1 ? process.stdout : process.stderr).write(rest);
  }
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
