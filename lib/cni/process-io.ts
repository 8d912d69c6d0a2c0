import { readFileSync } from 'node:fs';

/** What the dispatcher reads and writes, injected so it can be driven by unit tests. */
export interface PluginIo {
  env: Readonly<Record<string, string | undefined>>;
  readStdin: () => Promise<Buffer>;
  writeStdout: (text: string) => void;
  writeStderr: (text: string) => void;
}

/** The real process: env, fd 0, and stdout/stderr (synchronous for pipes and files on Linux). */
export function processIo(): PluginIo {
  return {
    env: process.env,
    readStdin,
    writeStdout: (text) => process.stdout.write(text),
    writeStderr: (text) => process.stderr.write(text),
  };
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
