import { CniError, ErrorCode } from '../cni/errors';
import { CommandTimedOut, Deadline, describeArgv, runCommand, tool } from './command';
import { deleteHostLink } from './host-link';
import { assertInterfaceName } from './names';
import { netnsName, netnsState } from './netns';
import { linkExistsHere } from './proc-net';

/** Which pod network to remove. */
export interface PodNetworkRef {
  /** CNI_NETNS; empty or absent when the runtime no longer has one. */
  netns?: string | undefined;
  containerIfName: string;
  /**
   * The host end, deleted by name if it survived (a half-built ADD). Leave it out when the name
   * may belong to a newer sandbox: a k8s veth name derives from the pod, not the container.
   */
  hostIfName?: string | undefined;
  /** Bound on the whole teardown (default 20 s, upstream's; v3.20 had 5 s). */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 20_000;

/**
 * Calico's CleanUpNamespace (§4.2), idempotent: delete CNI_IFNAME inside the pod netns (the
 * kernel removes the host end and its routes with it), then the host end by name (when given) if
 * a half-built ADD left it behind. An empty, missing or non-netns CNI_NETNS and a missing link all
 * count as done. One process when the pod was set up, none when everything is gone already.
 */
export async function teardownPodNetwork(ref: PodNetworkRef): Promise<void> {
  assertInterfaceName('container interface', ref.containerIfName);
  const host = ref.hostIfName;
  if (host !== undefined) assertInterfaceName('host interface', host);
  const deadline = new Deadline(ref.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const { netns } = ref;
  // 'own' is never entered: CNI_IFNAME there would be one of the node's own interfaces.
  if (netns !== undefined && netns !== '' && netnsState(netns) === 'netns') {
    await deleteContainerLink(netns, ref.containerIfName, deadline);
  }
  if (host !== undefined && linkExistsHere(host)) {
    await deleteHostLink(host, {
      timeoutMs: deadline.remaining(),
      step: `delete host veth ${host}`,
    });
  }
}

async function deleteContainerLink(netns: string, ctr: string, deadline: Deadline): Promise<void> {
  // A named netns needs no nsenter: one exec fewer.
  const name = netnsName(netns);
  const enter =
    name === undefined ? [tool('nsenter'), `--net=${netns}`, tool('ip')] : [tool('ip'), '-n', name];
  const argv = [...enter, 'link', 'del', 'dev', ctr];
  const step = `delete ${ctr} in netns ${netns}`;
  let result;
  try {
    result = await runCommand(argv, { timeoutMs: deadline.remaining(), step });
  } catch (err: unknown) {
    // Upstream's wording: deletion hung on old kernels (hence the bound).
    if (!(err instanceof CommandTimedOut)) throw err;
    throw new CniError(
      ErrorCode.dataplaneFailed,
      `timed out deleting device in netns ${netns}`,
      err.message,
    );
  }
  if (result.code === 0 || result.stderr.includes('Cannot find device')) return;
  // The runtime may remove the namespace while we run: gone is done.
  if (netnsState(netns) !== 'netns') return;
  throw new CniError(
    ErrorCode.dataplaneFailed,
    `${step}: ${describeArgv(argv)} failed: ${result.stderr.trim()}`,
  );
}
