import { describe, expect, it } from 'vitest';
import { encodeClusterInformation, parseClusterInformation } from './cluster-information';
import { encodeIpReservation, parseIpReservation } from './ip-reservation';
import {
  CLUSTER_INFORMATION_KEY,
  ipReservationKey,
  nodeKey,
  profileKey,
  workloadEndpointKey,
} from './keys';
import { encodeNode, parseNode } from './node';
import { encodeProfile, parseProfile } from './profile';
import {
  encodeWorkloadEndpoint,
  parseWorkloadEndpoint,
  type WorkloadEndpoint,
} from './workload-endpoint';

const WEP_KEY = workloadEndpointKey('default', 'node--1-cni-abc123-eth0');
/** calico-behaviour.md §2.2 with the placeholders filled in, compacted. */
const WEP =
  '{"kind":"WorkloadEndpoint","apiVersion":"projectcalico.org/v3",' +
  '"metadata":{"name":"node--1-cni-abc123-eth0","namespace":"default","uid":"0b1c2d3e-0000-4000-8000-000000000001","creationTimestamp":"2024-01-02T03:04:05Z",' +
  '"labels":{"projectcalico.org/namespace":"default","projectcalico.org/orchestrator":"cni"}},' +
  '"spec":{"orchestrator":"cni","node":"node-1","containerID":"abc123","endpoint":"eth0",' +
  '"ipNetworks":["10.0.0.5/32"],"profiles":["net1"],"interfaceName":"caliabc123","mac":"ee:ee:ee:ee:ee:ee"}}';
/** calico-behaviour.md §2.3, compacted. */
const PROFILE =
  '{"kind":"Profile","apiVersion":"projectcalico.org/v3","metadata":{"name":"net1"},' +
  '"spec":{"ingress":[{"action":"Allow","source":{"selector":"has(net1)"}}],' +
  '"egress":[{"action":"Allow"}],"labelsToApply":{"net1":""}}}';

describe('WorkloadEndpoint codec', () => {
  it('reads the documented WEP and writes it back byte for byte', () => {
    const wep = parseWorkloadEndpoint(WEP_KEY, WEP);
    expect(wep.metadata).toMatchObject({
      name: 'node--1-cni-abc123-eth0',
      namespace: 'default',
      labels: { 'projectcalico.org/orchestrator': 'cni' },
    });
    expect(wep.spec).toMatchObject({
      orchestrator: 'cni',
      node: 'node-1',
      containerID: 'abc123',
      endpoint: 'eth0',
      ipNetworks: ['10.0.0.5/32'],
      profiles: ['net1'],
      interfaceName: 'caliabc123',
      mac: 'ee:ee:ee:ee:ee:ee',
      allowSpoofedSourcePrefixes: [],
    });
    expect(encodeWorkloadEndpoint(wep)).toBe(WEP);
  });

  it('writes a new WEP in the documented shape, empty fields left out', () => {
    const wep: WorkloadEndpoint = {
      metadata: {
        name: 'node--1-cni-abc123-eth0',
        namespace: 'default',
        uid: '0b1c2d3e-0000-4000-8000-000000000001',
        creationTimestamp: '2024-01-02T03:04:05Z',
        labels: {
          'projectcalico.org/orchestrator': 'cni',
          'projectcalico.org/namespace': 'default',
        },
      },
      spec: {
        orchestrator: 'cni',
        node: 'node-1',
        containerID: 'abc123',
        endpoint: 'eth0',
        pod: '',
        ipNetworks: ['10.0.0.5/32'],
        profiles: ['net1'],
        interfaceName: 'caliabc123',
        mac: 'ee:ee:ee:ee:ee:ee',
        allowSpoofedSourcePrefixes: [],
      },
    };
    expect(encodeWorkloadEndpoint(wep)).toBe(WEP);
  });

  it('never stores resourceVersion, keeps unknown fields', () => {
    const withExtras = WEP.replace(
      '"namespace":"default",',
      '"namespace":"default","resourceVersion":"42",',
    ).replace('"mac":', '"qosControls":{"ingressBandwidth":1},"mac":');
    const text = encodeWorkloadEndpoint(parseWorkloadEndpoint(WEP_KEY, withExtras));
    expect(text).not.toContain('resourceVersion');
    expect(text).toContain('"qosControls":{"ingressBandwidth":1}');
  });

  it('names the key and field of a bad value', () => {
    expect(() => parseWorkloadEndpoint(WEP_KEY, WEP.replace('["net1"]', '"net1"'))).toThrow(
      `invalid WorkloadEndpoint at ${WEP_KEY}: spec.profiles: must be a list, got "net1"`,
    );
    expect(() => parseWorkloadEndpoint(WEP_KEY, '{"metadata":{},"spec":{}}')).toThrow(
      'metadata.name: must be a string',
    );
  });
});

describe('Profile codec', () => {
  it('reads the documented default profile and writes it back byte for byte', () => {
    const profile = parseProfile(profileKey('net1'), PROFILE);
    expect(profile.spec.labelsToApply).toEqual({ net1: '' });
    expect(profile.spec.ingress).toEqual([{ action: 'Allow', source: { selector: 'has(net1)' } }]);
    expect(encodeProfile(profile)).toBe(PROFILE);
    expect(
      encodeProfile({
        metadata: { name: 'net1' },
        spec: {
          ingress: [{ action: 'Allow', source: { selector: 'has(net1)' } }],
          egress: [{ action: 'Allow' }],
          labelsToApply: { net1: '' },
        },
      }),
    ).toBe(PROFILE);
  });
});

describe('Node, ClusterInformation and IPReservation codecs', () => {
  it('reads a Node’s labels and keeps its spec', () => {
    const text =
      '{"kind":"Node","apiVersion":"projectcalico.org/v3","metadata":{"name":"node-1","labels":{"rack":"r1"}},' +
      '"spec":{"bgp":{"ipv4Address":"192.0.2.1/24"},"orchRefs":[{"nodeName":"node-1","orchestrator":"k8s"}]}}';
    const node = parseNode(nodeKey('node-1'), text);
    expect(node.metadata.labels).toEqual({ rack: 'r1' });
    expect(encodeNode(node)).toBe(text);
  });

  it('reads datastoreReady, absent meaning not ready', () => {
    const ready =
      '{"kind":"ClusterInformation","apiVersion":"projectcalico.org/v3","metadata":{"name":"default"},' +
      '"spec":{"clusterGUID":"abc","datastoreReady":true}}';
    const info = parseClusterInformation(CLUSTER_INFORMATION_KEY, ready);
    expect(info.spec).toMatchObject({ clusterGUID: 'abc', datastoreReady: true });
    expect(encodeClusterInformation(info)).toBe(ready);
    const unset = parseClusterInformation(
      CLUSTER_INFORMATION_KEY,
      '{"kind":"ClusterInformation","metadata":{"name":"default"},"spec":{}}',
    );
    expect(unset.spec.datastoreReady).toBeUndefined();
    expect(() =>
      parseClusterInformation(
        CLUSTER_INFORMATION_KEY,
        '{"metadata":{"name":"default"},"spec":{"datastoreReady":"yes"}}',
      ),
    ).toThrow('spec.datastoreReady: must be true or false, got "yes"');
  });

  it('reads reserved CIDRs and bare addresses, refusing anything else', () => {
    const key = ipReservationKey('r1');
    const text =
      '{"kind":"IPReservation","apiVersion":"projectcalico.org/v3","metadata":{"name":"r1"},' +
      '"spec":{"reservedCIDRs":["10.0.0.0/30","10.0.0.9","fd00::1"]}}';
    const reservation = parseIpReservation(key, text);
    expect(reservation.spec.reservedCIDRs).toEqual(['10.0.0.0/30', '10.0.0.9', 'fd00::1']);
    expect(encodeIpReservation(reservation)).toBe(text);
    expect(() => parseIpReservation(key, text.replace('10.0.0.9', '10.0.0.300'))).toThrow(
      `invalid IPReservation at ${key}: spec.reservedCIDRs[1]: "10.0.0.300" is not a CIDR or an IP`,
    );
  });
});
