import type { CmdArgs } from '../../lib/cni/dispatcher';
import { CniError, ErrorCode } from '../../lib/cni/errors';
import { assertUsableNetns, inspectPodNetwork } from '../../lib/dataplane';
import { calicoContext, withDatastore } from './context';
import { ipamClient } from './ipam-client';

/**
 * CHECK (spec 0.4.0+), a real one: the container interface that prevResult reports must exist in
 * CNI_NETNS with its MAC, addresses and routes; the host veth and host routes must be there; and
 * the IPAM allocation must exist. Every problem is named.
 */
export async function calicoCheck(args: CmdArgs): Promise<void> {
  const ctx = await calicoContext(args);
  const prev = args.netConf.prevResult;
  if (prev === undefined) {
    throw new CniError(ErrorCode.invalidNetworkConfig, 'CHECK needs prevResult: the result of ADD');
  }
  const index = prev.interfaces.findIndex((i) => i.name === args.ifName);
  const container = prev.interfaces[index];
  if (container === undefined) {
    throw new CniError(ErrorCode.checkFailed, `prevResult lists no interface ${args.ifName}`);
  }
  if (container.sandbox !== args.netns) {
    throw new CniError(
      ErrorCode.checkFailed,
      `Sandbox in prevResult (${container.sandbox ?? 'none'}) doesn't match configured netns ${args.netns}`,
    );
  }
  assertUsableNetns(args.netns);
  const addresses = prev.ips
    .filter((ip) => ip.interface === index)
    .map((ip) => ip.address.split('/')[0] ?? ip.address);
  const problems = await inspectPodNetwork({
    netns: args.netns,
    containerIfName: args.ifName,
    hostIfName: ctx.identity.hostVeth,
    containerMac: container.mac ?? '',
    addresses,
  });
  if (problems.length > 0) {
    throw new CniError(
      ErrorCode.checkFailed,
      `CHECK failed for ${args.ifName} in ${args.netns}: ${problems.join('; ')}`,
    );
  }
  await withDatastore(ctx, (kv) =>
    ipamClient(args, { ipamType: ctx.ipamType, kv, node: ctx.node }).check(),
  );
}
