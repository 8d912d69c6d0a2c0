import type { Timeouts } from './deadline';

/** Client TLS material, already read from disk (config.ts names the files in its errors). */
export interface TlsMaterial {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  /** Where each file came from (`etcd_ca_cert_file "/path"`), for errors. */
  sources?: { ca?: string; cert?: string; key?: string };
}

/** Which wire protocol talks to etcd. */
export type EtcdTransport = 'json' | 'grpc';

/** Everything a transport needs to connect; built by config.ts from the netconf and env. */
export interface ClientSettings {
  /** Normalised `http(s)://host:port` URLs, tried in order. */
  endpoints: string[];
  transport: EtcdTransport;
  tls?: TlsMaterial;
  timeouts: Timeouts;
}
