import { CliError } from './io';

/** `calicoctl ipam check`: wired to ipam/consistency-check.ts once that library lands. */
export function ipamCheck(): Promise<void> {
  return Promise.reject(new CliError('ipam check: not available in this build yet'));
}
