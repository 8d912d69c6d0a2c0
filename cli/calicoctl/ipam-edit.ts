import { encodeIpamConfig, parseIpamConfig } from '../../lib/datastore/calico/ipam-config';
import { IPAM_CONFIG_KEY } from '../../lib/datastore/calico/keys';
import { CAS_CONFLICT, withCasRetry } from '../../lib/datastore/cas-retry';
import type { Kv } from '../../lib/datastore/kv';
import { EtcdBlockStore } from '../../ipam/etcd-block-store';
import { releaseAddresses } from '../../ipam/release-addresses';
import { tryParseIp, type IpAddress } from '../../ipam/core';
import { CliError, type CliIo } from './io';

// The IPAM verbs that write: `ipam release --ip` through the allocator's own release path (one
// compare-and-swap commit of block and handle), and `ipam configure` on /calico/ipam/v2/config.

/** Releases the given addresses; an address nobody holds is an error (exit 1) after the rest. */
export async function ipamRelease(kv: Kv, texts: readonly string[], io: CliIo): Promise<void> {
  const ips: IpAddress[] = texts.map((text) => {
    const ip = tryParseIp(text);
    if (ip === null) throw new CliError(`--ip: ${JSON.stringify(text)} is not an IP address`);
    return ip;
  });
  const outcome = await releaseAddresses(new EtcdBlockStore(kv), ips);
  for (const ip of outcome.released) io.out(`Successfully released IP address ${ip}\n`);
  if (outcome.notAssigned.length > 0) {
    throw new CliError(`IP address not assigned: ${outcome.notAssigned.join(', ')}`);
  }
}

/** `true`/`false` as calicoctl's `--strictaffinity=` takes them. */
export function parseBooleanFlag(flag: string, text: string): boolean {
  if (text === 'true') return true;
  if (text === 'false') return false;
  throw new CliError(`${flag}: must be true or false, got ${JSON.stringify(text)}`);
}

/** Sets strict affinity and/or the per-host block limit, keeping every other stored field. */
export async function ipamConfigure(
  kv: Kv,
  change: { strictAffinity?: boolean | undefined; maxBlocksPerHost?: number | undefined },
  io: CliIo,
): Promise<void> {
  const { strictAffinity, maxBlocksPerHost } = change;
  if (strictAffinity === undefined && maxBlocksPerHost === undefined) {
    throw new CliError(
      'ipam configure: give --strictaffinity=true|false and/or --max-blocks-per-host N',
    );
  }
  const written = await withCasRetry(
    async () => {
      const current = await kv.get(IPAM_CONFIG_KEY);
      const config = parseIpamConfig(IPAM_CONFIG_KEY, current?.value);
      if (strictAffinity !== undefined) config.strictAffinity = strictAffinity;
      if (maxBlocksPerHost !== undefined) config.maxBlocksPerHost = maxBlocksPerHost;
      const result = await kv.txn({
        compare: [
          {
            key: IPAM_CONFIG_KEY,
            target: 'modRevision',
            result: 'equal',
            value: current?.modRevision ?? 0,
          },
        ],
        success: [{ op: 'put', key: IPAM_CONFIG_KEY, value: encodeIpamConfig(config) }],
        failure: [],
      });
      return result.succeeded ? config : CAS_CONFLICT;
    },
    { what: 'ipam configure' },
  );
  io.out(
    `Successfully set StrictAffinity to: ${written.strictAffinity}, MaxBlocksPerHost to: ${written.maxBlocksPerHost === 0 ? '0 (default 20)' : written.maxBlocksPerHost}\n`,
  );
}

/** A `--max-blocks-per-host` value: an integer from 0 (no explicit limit). */
export function parseBlockLimit(text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value > 2 ** 31 - 1) {
    throw new CliError(
      `--max-blocks-per-host: must be an integer from 0 to ${2 ** 31 - 1}, got ${JSON.stringify(text)}`,
    );
  }
  return value;
}
