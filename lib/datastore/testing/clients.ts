import { afterEach } from 'vitest';
import type { JsonObject } from '../../cni/json-fields';
import { etcdSettings } from '../config';
import type { Kv } from '../kv';
import { openKv } from '../open-kv';
import type { EtcdTransport } from '../settings';

/** Opens clients the way a plugin does (netconf → settings → Kv) and closes them after each test. */
export interface ClientFactory {
  transport: EtcdTransport;
  /** A Kv for `endpoints` (a netconf `etcd_endpoints` value) plus any other netconf keys. */
  open(endpoints: string, netconf?: JsonObject): Kv;
}

/** A ClientFactory for `transport`; register it inside a describe block. */
export function clientFactory(transport: EtcdTransport): ClientFactory {
  const opened: Kv[] = [];
  afterEach(() => {
    for (const kv of opened.splice(0)) kv.close();
  });
  return {
    transport,
    open(endpoints, netconf = {}) {
      const settings = etcdSettings(
        { etcd_endpoints: endpoints, etcd_transport: transport, ...netconf },
        {},
      );
      const kv = openKv(settings);
      opened.push(kv);
      return kv;
    },
  };
}

/** The milliseconds `promise` took to settle, and its rejection (undefined when it resolved). */
export async function timed(promise: Promise<unknown>): Promise<{ ms: number; error: unknown }> {
  const start = performance.now();
  try {
    await promise;
    return { ms: performance.now() - start, error: undefined };
  } catch (error) {
    return { ms: performance.now() - start, error };
  }
}
