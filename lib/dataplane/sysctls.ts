import type { Sysctl } from './proc-net';

// Which sysctls a pod's veth gets (calico-behaviour.md §4.1 steps 4, 5, 8 and 10). The host end's
// are written in-process (/proc/sys/net of the node); the pod's by one sysctl process in its netns.

/** §4.1 step 5, in upstream's order. */
export function hostSysctls(host: string, hasV4: boolean, hasV6: boolean): Sysctl[] {
  const out: Sysctl[] = [];
  if (hasV4) {
    out.push(
      // Lets the pod reach services NATed to 127.0.0.1 on the node (v3.21+).
      { key: `ipv4/conf/${host}/route_localnet`, value: '1' },
      // Answer ARP for 169.254.1.1 at once rather than after a random delay of up to 0.8 s.
      { key: `ipv4/neigh/${host}/proxy_delay`, value: '0', optional: true },
      { key: `ipv4/conf/${host}/proxy_arp`, value: '1' },
      { key: `ipv4/conf/${host}/forwarding`, value: '1' },
    );
  }
  if (hasV6) {
    out.push(
      // Before the carrier comes up: otherwise the host link-local stays tentative for ~1 s.
      { key: `ipv6/conf/${host}/accept_dad`, value: '0' },
      { key: `ipv6/conf/${host}/disable_ipv6`, value: '0' },
      { key: `ipv6/conf/${host}/proxy_ndp`, value: '1' },
      { key: `ipv6/conf/${host}/forwarding`, value: '1' },
    );
  }
  out.push({ key: `ipv6/conf/${host}/accept_ra`, value: '0', optional: true });
  return out;
}

/** §4.1 steps 4, 8 and 10: one sysctl process inside the pod netns. */
export function containerSysctlArgs(
  ctr: string,
  hasV4: boolean,
  hasV6: boolean,
  allowIpForwarding: boolean,
): string[] {
  const forwarding = allowIpForwarding ? '1' : '0';
  // Slash-separated keys: sysctl would read a dot inside an interface name as a separator.
  const args: string[] = [];
  if (hasV4) args.push(`net/ipv4/ip_forward=${forwarding}`);
  if (hasV6) {
    args.push(
      'net/ipv6/conf/all/disable_ipv6=0',
      'net/ipv6/conf/default/disable_ipv6=0',
      'net/ipv6/conf/lo/disable_ipv6=0',
      `net/ipv6/conf/${ctr}/accept_dad=0`,
      `net/ipv6/conf/all/forwarding=${forwarding}`,
    );
  }
  return args;
}
