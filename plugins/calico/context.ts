import { loggerFromNetConf, type Logger } from '../../lib/calico/logger';
import {
  parseMainNetConf,
  requireNodenameFile,
  type MainNetConf,
} from '../../lib/calico/main-netconf';
import { determineNodeName } from '../../lib/calico/node-name';
import type { CmdArgs } from '../../lib/cni/dispatcher';
import { CniError, ErrorCode } from '../../lib/cni/errors';
import type { NetConf } from '../../lib/cni/netconf';
import { etcdSettings } from '../../lib/datastore/config';
import { datastoreErrorToCni } from '../../lib/datastore/errors';
import type { Kv } from '../../lib/datastore/kv';
import { openKv } from '../../lib/datastore/open-kv';
import { identify, type Identity } from './identity';

/** Everything ADD, DEL and CHECK derive from the arguments before they act. */
export interface CalicoContext {
  args: CmdArgs;
  conf: MainNetConf;
  ipamType: string;
  node: string;
  identity: Identity;
  log: Logger;
}

/** The main plugin needs an IPAM plugin to get addresses from (checklist B31: code 7). */
export function requireIpamType(netConf: NetConf): string {
  if (netConf.ipamType === undefined) {
    throw new CniError(
      ErrorCode.invalidNetworkConfig,
      'invalid network config: ipam.type is required',
    );
  }
  // A binary name looked up in CNI_PATH: never a path, never longer than a file name may be.
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$/.test(netConf.ipamType)) {
    throw new CniError(
      ErrorCode.invalidNetworkConfig,
      `invalid network config: ipam.type ${JSON.stringify(netConf.ipamType).slice(0, 300)} is not a plugin name`,
    );
  }
  return netConf.ipamType;
}

/** Parses and checks everything that needs neither the datastore nor the dataplane. */
export async function calicoContext(args: CmdArgs): Promise<CalicoContext> {
  const log = loggerFromNetConf(args.netConf.raw, { tag: 'calico' });
  // Keys only, never values: stdin may carry tokens, credentials and file paths (DESIGN.md).
  log.debug(
    `invocation: container=${args.containerId} netns=${args.netns} ifname=${args.ifName} network=${args.netConf.name} cniVersion=${args.netConf.cniVersion} netconf keys=[${Object.keys(args.netConf.raw).sort().join(',')}]`,
  );
  const ipamType = requireIpamType(args.netConf);
  const conf = parseMainNetConf(args.netConf.raw);
  requireNodenameFile(args.netConf.raw);
  const { name: node } = determineNodeName(args.netConf.raw);
  const identity = await identify({
    node,
    containerId: args.containerId,
    ifName: args.ifName,
    args: args.args,
    interfacePrefix: args.env.FELIX_INTERFACEPREFIX,
  });
  return { args, conf, ipamType, node, identity, log };
}

/** Runs `work` with an etcd client for this invocation; datastore errors become CNI errors. */
export async function withDatastore<T>(
  ctx: CalicoContext,
  work: (kv: Kv) => Promise<T>,
): Promise<T> {
  const kv = openKv(etcdSettings(ctx.args.netConf.raw, ctx.args.env));
  try {
    return await work(kv);
  } catch (err) {
    throw datastoreErrorToCni(err);
  } finally {
    kv.close();
  }
}
