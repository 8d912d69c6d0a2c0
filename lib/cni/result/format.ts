import type { SpecVersion } from '../versions';

/**
 * The four result shapes: `ip4`/`ip6` (0.1.0, 0.2.0), `ips[].version` (0.3.x, 0.4.0), 1.0.0 without
 * `version`, and 1.1.0 with its extra interface and route fields.
 */
export type ResultFormat = 'legacy' | 'versioned-ips' | 'v1.0' | 'v1.1';

/** The result shape a config of `version` reads and writes. */
export function resultFormat(version: SpecVersion): ResultFormat {
  switch (version) {
    case '0.1.0':
    case '0.2.0':
      return 'legacy';
    case '0.3.0':
    case '0.3.1':
    case '0.4.0':
      return 'versioned-ips';
    case '1.0.0':
      return 'v1.0';
    case '1.1.0':
      return 'v1.1';
  }
}
