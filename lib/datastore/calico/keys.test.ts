import { describe, expect, it } from 'vitest';
import {
  BLOCKS_PREFIX,
  blockAffinityKey,
  blockKey,
  blocksPrefix,
  CLUSTER_INFORMATION_KEY,
  cidrFromBlockKey,
  handleIdFromKey,
  handleKey,
  hostAffinitiesPrefix,
  IPAM_CONFIG_KEY,
  ipamHostKey,
  ipPoolKey,
  ipReservationKey,
  nameFromKey,
  nodeKey,
  parseBlockAffinityKey,
  profileKey,
  workloadEndpointKey,
} from './keys';

describe('Calico v3 key layout (calico-behaviour.md §7.1)', () => {
  it('builds the resource keys', () => {
    const v3 = '/calico/resources/v3/projectcalico.org';
    expect(ipPoolKey('10-0-0-0-24')).toBe(`${v3}/ippools/10-0-0-0-24`);
    expect(workloadEndpointKey('default', 'node--1-cni-abc123-eth0')).toBe(
      `${v3}/workloadendpoints/default/node--1-cni-abc123-eth0`,
    );
    expect(profileKey('net1')).toBe(`${v3}/profiles/net1`);
    expect(nodeKey('node-1')).toBe(`${v3}/nodes/node-1`);
    expect(CLUSTER_INFORMATION_KEY).toBe(`${v3}/clusterinformations/default`);
    expect(ipReservationKey('r1')).toBe(`${v3}/ipreservations/r1`);
  });

  it('builds the IPAM keys, with the CIDR in Go form and "/" → "-"', () => {
    expect(blockKey('10.0.0.64/26')).toBe('/calico/ipam/v2/assignment/ipv4/block/10.0.0.64-26');
    expect(blockKey('fd80:24e2:f998:72d6:0:0:0:0/122')).toBe(
      '/calico/ipam/v2/assignment/ipv6/block/fd80:24e2:f998:72d6::-122',
    );
    expect(blockAffinityKey('node-1', '10.0.0.64/26')).toBe(
      '/calico/ipam/v2/host/node-1/ipv4/block/10.0.0.64-26',
    );
    expect(blockAffinityKey('node-1', 'fd80:24e2:f998:72d6::/122')).toBe(
      '/calico/ipam/v2/host/node-1/ipv6/block/fd80:24e2:f998:72d6::-122',
    );
    expect(handleKey('net1.abc123')).toBe('/calico/ipam/v2/handle/net1.abc123');
    expect(IPAM_CONFIG_KEY).toBe('/calico/ipam/v2/config');
    expect(ipamHostKey('node-1')).toBe('/calico/ipam/v2/host/node-1');
    expect(BLOCKS_PREFIX).toBe('/calico/ipam/v2/assignment/');
    expect(blocksPrefix(6)).toBe('/calico/ipam/v2/assignment/ipv6/block/');
    expect(hostAffinitiesPrefix('node-1', 4)).toBe('/calico/ipam/v2/host/node-1/ipv4/block/');
  });

  it('refuses names that would address another key', () => {
    expect(() => nodeKey('a/b')).toThrow('invalid Node name for an etcd key: "a/b"');
    expect(() => handleKey('')).toThrow('invalid IPAM handle for an etcd key: ""');
    expect(() => workloadEndpointKey('ns/x', 'w')).toThrow('invalid namespace');
    expect(() => blockKey('10.0.0.0')).toThrow('invalid CIDR for an etcd key: "10.0.0.0"');
  });

  it('parses keys back', () => {
    expect(
      cidrFromBlockKey('/calico/ipam/v2/assignment/ipv6/block/fd80:24e2:f998:72d6::-122'),
    ).toBe('fd80:24e2:f998:72d6::/122');
    expect(cidrFromBlockKey('/calico/ipam/v2/handle/x')).toBeUndefined();
    expect(parseBlockAffinityKey('/calico/ipam/v2/host/node-1/ipv4/block/10.0.0.64-26')).toEqual({
      host: 'node-1',
      cidr: '10.0.0.64/26',
    });
    expect(parseBlockAffinityKey('/calico/ipam/v2/host/node-1')).toBeUndefined();
    expect(handleIdFromKey('/calico/ipam/v2/handle/k8s-pod-network.abc')).toBe(
      'k8s-pod-network.abc',
    );
    expect(handleIdFromKey('/calico/ipam/v2/config')).toBeUndefined();
    expect(nameFromKey(ipPoolKey('p1'))).toBe('p1');
  });
});
