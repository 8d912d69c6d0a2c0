import { describe, expect, it } from 'vitest';
import { parseCniArgs } from '../../lib/cni/cni-args';
import { CniError } from '../../lib/cni/errors';
import { endpointName, identify } from './identity';

describe('identify', () => {
  it('names a plain CNI container after its ID', async () => {
    const id = await identify({
      node: 'node-1',
      containerId: 'abc123def4567890',
      ifName: 'eth0',
      args: parseCniArgs(''),
    });
    expect(id).toEqual({
      orchestrator: 'cni',
      namespace: 'default',
      workload: 'abc123def4567890',
      endpointName: 'node--1-cni-abc123def4567890-eth0',
      hostVeth: 'caliabc123def45',
      vethPrefix: 'cali',
    });
  });

  it('names a Kubernetes pod after its namespace and name, with the upstream test vector', async () => {
    const args = parseCniArgs('K8S_POD_NAMESPACE=namespace;K8S_POD_NAME=podname');
    const id = await identify({
      node: 'n',
      containerId: 'c',
      ifName: 'eth0',
      args,
      interfacePrefix: 'eni,cali',
    });
    expect(id.hostVeth).toBe('eni82111e10a96');
    expect(id.vethPrefix).toBe('eni');
    const cali = await identify({
      node: 'node-1',
      containerId: 'c',
      ifName: 'eth0',
      args: parseCniArgs('K8S_POD_NAMESPACE=ns;K8S_POD_NAME=nginx-abc'),
    });
    expect(cali).toMatchObject({
      orchestrator: 'k8s',
      namespace: 'ns',
      pod: 'nginx-abc',
      endpointName: 'node--1-k8s-nginx--abc-eth0',
    });
    expect(cali.hostVeth).toMatch(/^cali[0-9a-f]{11}$/);
    expect(cali.vethPrefix).toBe('cali');
  });

  it('refuses Kubernetes names that could not be objects (they would become etcd key segments)', async () => {
    for (const cniArgs of [
      'K8S_POD_NAMESPACE=../../x;K8S_POD_NAME=p',
      'K8S_POD_NAMESPACE=ns;K8S_POD_NAME=/etc',
      'K8S_POD_NAMESPACE=Upper;K8S_POD_NAME=p',
    ]) {
      const refused: unknown = await identify({
        node: 'n',
        containerId: 'c',
        ifName: 'eth0',
        args: parseCniArgs(cniArgs),
      }).catch((err: unknown) => err);
      expect(refused).toBeInstanceOf(CniError);
      expect((refused as CniError).code).toBe(4);
      expect((refused as CniError).message).toMatch(/^CNI_ARGS K8S_POD_/);
    }
  });

  it('needs both Kubernetes keys to treat the container as a pod', async () => {
    const id = await identify({
      node: 'n',
      containerId: 'c1',
      ifName: 'eth0',
      args: parseCniArgs('K8S_POD_NAMESPACE=ns'),
    });
    expect(id.orchestrator).toBe('cni');
  });

  it('refuses segments that would make the name ambiguous', () => {
    expect(() => endpointName(['node-', 'cni', 'c', 'eth0'])).toThrow('starts or ends with "-"');
    expect(endpointName(['a-b', 'k8s', 'c--d', 'eth0'])).toBe('a--b-k8s-c----d-eth0');
  });
});
