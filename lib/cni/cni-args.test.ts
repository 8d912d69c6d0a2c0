import { describe, expect, it } from 'vitest';
import { parseCniArgs } from './cni-args';

describe('parseCniArgs', () => {
  it('reads the CRI runtimes string with IgnoreUnknown', () => {
    const args = parseCniArgs(
      'IgnoreUnknown=1;K8S_POD_NAMESPACE=kube-system;K8S_POD_NAME=coredns-1;K8S_POD_INFRA_CONTAINER_ID=abc;K8S_POD_UID=u-1',
    );
    expect(args).toMatchObject({
      k8sPodNamespace: 'kube-system',
      k8sPodName: 'coredns-1',
      k8sPodInfraContainerId: 'abc',
    });
    expect(args.raw.get('K8S_POD_UID')).toBe('u-1');
  });

  it('is empty for an empty string and ignores empty segments', () => {
    expect(parseCniArgs('').raw.size).toBe(0);
    expect(parseCniArgs('IP=10.1.0.7;').ip).toBe('10.1.0.7');
  });

  it('treats empty K8S values as absent', () => {
    expect(parseCniArgs('K8S_POD_NAMESPACE=;K8S_POD_NAME=').k8sPodName).toBeUndefined();
  });

  it.each(['true', 'True', '1'])('accepts IgnoreUnknown=%s', (flag) => {
    expect(() => parseCniArgs(`IgnoreUnknown=${flag};FOO=bar`)).not.toThrow();
  });

  it.each([
    ['FOO=bar', 'unknown key "FOO"'],
    ['IgnoreUnknown=0;FOO=bar', 'unknown key "FOO"'],
    ['IgnoreUnknown=maybe', 'IgnoreUnknown="maybe" is not a boolean'],
    ['novalue', 'invalid pair "novalue"'],
    ['A=b=c', 'invalid pair "A=b=c"'],
    ['=x', 'invalid pair "=x"'],
    ['IP=1.2.3.4;IP=5.6.7.8', 'key "IP" is given more than once'],
    ['IP=1.2.3.4/24', 'IP="1.2.3.4/24" is not an IP address'],
  ])('rejects %j with code 4', (text, msg) => {
    expect(() => parseCniArgs(text)).toThrow(`CNI_ARGS: ${msg}`);
    try {
      parseCniArgs(text);
    } catch (err) {
      expect((err as { code: number }).code).toBe(4);
    }
  });

  it('lets the main plugin ignore unknown keys but still rejects malformed pairs', () => {
    expect(parseCniArgs('FOO=bar', { ignoreUnknown: true }).raw.get('FOO')).toBe('bar');
    expect(() => parseCniArgs('FOO', { ignoreUnknown: true })).toThrow('invalid pair');
  });

  it('accepts an IPv6 address for IP', () => {
    expect(parseCniArgs('IP=fd00::7').ip).toBe('fd00::7');
  });
});
