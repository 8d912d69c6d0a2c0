import type { JsonObject } from '../../cni/json-fields';
import { mergeRaw, StoredReader, toStoredText } from './stored';

// libcalico-go model.IPAMConfig at /calico/ipam/v2/config (calico-behaviour.md §7.5). Every field
// is `omitempty`, so a stored config without `auto_allocate_blocks` means false; only a missing
// key gives the defaults (strict affinity off, auto-allocation on, no explicit block limit).

/** Cluster-wide IPAM settings. */
export interface IpamConfig {
  strictAffinity: boolean;
  autoAllocateBlocks: boolean;
  /** 0 means "no explicit limit"; AutoAssign then uses DEFAULT_MAX_BLOCKS_PER_HOST. */
  maxBlocksPerHost: number;
  /** The value as read: unknown fields survive a write-back. */
  raw?: JsonObject;
}

/** The per-host block limit AutoAssign applies when neither the request nor the config sets one. */
export const DEFAULT_MAX_BLOCKS_PER_HOST = 20;

/** The config Calico assumes when the key does not exist. */
export const DEFAULT_IPAM_CONFIG: Readonly<IpamConfig> = {
  strictAffinity: false,
  autoAllocateBlocks: true,
  maxBlocksPerHost: 0,
};

/** The config from the stored value, or the defaults when the key is missing (`text` undefined). */
export function parseIpamConfig(key: string, text: string | undefined): IpamConfig {
  if (text === undefined) return { ...DEFAULT_IPAM_CONFIG };
  const read = new StoredReader('IPAMConfig', key);
  const json = read.parse(text);
  return {
    strictAffinity: read.boolean(json.strict_affinity, 'strict_affinity'),
    autoAllocateBlocks: read.boolean(json.auto_allocate_blocks, 'auto_allocate_blocks'),
    maxBlocksPerHost: read.integer(json.maxBlocksPerHost, 'maxBlocksPerHost', {
      min: 0,
      max: 2 ** 31 - 1,
      fallback: 0,
    }),
    raw: json,
  };
}

/** The JSON Calico stores: false and 0 are left out, as Go's `omitempty` does. */
export function encodeIpamConfig(config: IpamConfig): string {
  return toStoredText(
    mergeRaw(
      {
        strict_affinity: config.strictAffinity || undefined,
        auto_allocate_blocks: config.autoAllocateBlocks || undefined,
        maxBlocksPerHost: config.maxBlocksPerHost === 0 ? undefined : config.maxBlocksPerHost,
      },
      config.raw,
    ),
  );
}
