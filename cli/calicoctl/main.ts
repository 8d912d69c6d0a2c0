import { runCalicoctl } from './program';

// The dist/calicoctl entry: the process's argv, streams and environment.
void runCalicoctl(process.argv.slice(2), {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  env: process.env,
  readStdin: async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  },
}).then((status) => {
  process.exitCode = status;
});
