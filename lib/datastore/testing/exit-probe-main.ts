// Run by exit-probe.ts in a fresh Node process: one write and read, close(), then nothing. The
// process must exit by itself, at once: a socket or timer left referenced would keep it alive.
import { etcdSettings } from '../config';
import { isDatastoreError } from '../errors';
import { openKv } from '../open-kv';

async function main(probe: {
  transport: string;
  endpoint: string;
  seconds: number;
}): Promise<void> {
  const { transport, endpoint, seconds } = probe;
  const kv = openKv(
    etcdSettings(
      { etcd_endpoints: endpoint, etcd_transport: transport, etcd_timeout_seconds: seconds },
      {},
    ),
  );
  try {
    await kv.put('/probe', 'v');
    process.stdout.write(`ok: ${(await kv.get('/probe'))?.value ?? 'missing'}\n`);
  } catch (err) {
    const text = isDatastoreError(err) ? `${err.kind}: ${err.message}` : String(err);
    process.stdout.write(`${text}\n`);
  } finally {
    kv.close();
    process.stdout.write(`closed at ${Date.now()}\n`);
  }
}

// No top-level await: tsx runs this file as CommonJS (the package has no "type": "module").
void main({
  transport: process.argv[2] ?? 'json',
  endpoint: process.argv[3] ?? '',
  seconds: Number(process.argv[4] ?? '10'),
});
