import { openGrpcKv } from './grpc';
import { openJsonGatewayKv } from './json-gateway';
import type { Kv } from './kv';
import type { ClientSettings } from './settings';

/**
 * The Kv for `settings.transport`. The gRPC transport loads etcd3 on its first call only; note
 * that a bundler still inlines etcd3 into a bundle that includes this file (see grpc.ts).
 */
export function openKv(settings: ClientSettings): Kv {
  return settings.transport === 'grpc' ? openGrpcKv(settings) : openJsonGatewayKv(settings);
}
