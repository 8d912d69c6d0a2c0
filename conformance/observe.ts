import type { Attachment } from './attach';
import type { HarnessContext } from './context';
import { describeAllocations, type Allocation } from './allocations';
import type { NetConf } from './netconf';
import type { FamilyRoute, PodLinkInfo, Sandbox } from './sandbox';

// What an attachment really is on the system, seen with `ip -j` in the pod and node namespaces:
// the container link by CNI_IFNAME, its host-side peer by the veth peer index, routes of both.

/** The pod and node side of one attachment. */
export interface AttachmentView {
  /** The container link named CNI_IFNAME, if present. */
  readonly container: PodLinkInfo | undefined;
  /** The container link's veth peer in the node netns, if any. */
  readonly host: PodLinkInfo | undefined;
  readonly podRoutes: readonly FamilyRoute[];
  readonly nodeRoutes: readonly FamilyRoute[];
  readonly nodeLinks: readonly PodLinkInfo[];
}

/** Look at `att` as it is now. */
export async function viewOf(sandbox: Sandbox, att: Attachment): Promise<AttachmentView> {
  const ifname = att.env.CNI_IFNAME ?? 'eth0';
  const podLinks = await sandbox.links(att.pod.name);
  const container = podLinks.find((l) => l.ifname === ifname);
  const nodeLinks = await sandbox.links(sandbox.node);
  const host =
    container?.peerIndex === undefined
      ? undefined
      : nodeLinks.find((l) => l.ifindex === container.peerIndex);
  return {
    container,
    host,
    podRoutes: await sandbox.routes(att.pod.name),
    nodeRoutes: await sandbox.routes(sandbox.node),
    nodeLinks,
  };
}

/** True when a link is administratively up. */
export function isUp(link: PodLinkInfo | undefined): boolean {
  return link?.flags.includes('UP') === true;
}

/**
 * Allocations of `conf`'s IPAM state now, or undefined when the harness cannot look (a user's
 * `--netconf`).
 */
export async function allocationsOf(
  ctx: HarnessContext,
  conf: NetConf,
): Promise<Allocation[] | undefined> {
  return ctx.confs.allocations?.(conf);
}

/** A problem text when `conf`'s IPAM state holds anything; undefined when empty or unknowable. */
export async function leftoverAllocations(
  ctx: HarnessContext,
  conf: NetConf,
  label: string,
): Promise<string | undefined> {
  const list = await allocationsOf(ctx, conf);
  if (list === undefined || list.length === 0) return undefined;
  return `${label}: IPAM still holds ${describeAllocations(list)}`;
}
