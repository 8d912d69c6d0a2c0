import { describe, expect, it } from 'vitest';
import { parseMainNetConf, requireNodenameFile } from './main-netconf';

const noFiles = { readFile: () => undefined };

describe('parseMainNetConf', () => {
  it('defaults: MTU 1500 without the mtu file, no forwarding, no features', () => {
    expect(parseMainNetConf({}, noFiles)).toEqual({
      mtu: 1500,
      allowIpForwarding: false,
      includeDefaultRoutes: false,
      ipAddrsNoIpam: false,
    });
  });

  it('takes the MTU from the netconf, else from /var/lib/calico/mtu', () => {
    expect(parseMainNetConf({ mtu: 4000 }, noFiles).mtu).toBe(4000);
    expect(parseMainNetConf({ mtu: 0 }, { readFile: () => '3000\n' }).mtu).toBe(3000);
    expect(() => parseMainNetConf({}, { readFile: () => 'big' })).toThrow(
      'invalid MTU NaN from /var/lib/calico/mtu',
    );
    expect(() => parseMainNetConf({ mtu: 70000 }, noFiles)).toThrow('invalid MTU 70000 from mtu');
  });

  it('reads container_settings and feature_control', () => {
    const conf = parseMainNetConf(
      {
        container_settings: { allow_ip_forwarding: true },
        feature_control: { ip_addrs_no_ipam: true },
      },
      noFiles,
    );
    expect([conf.allowIpForwarding, conf.ipAddrsNoIpam]).toEqual([true, true]);
    expect(() =>
      parseMainNetConf({ container_settings: { allow_ip_forwarding: 'yes' } }, noFiles),
    ).toThrow('container_settings.allow_ip_forwarding: must be true or false');
  });

  it('refuses the Kubernetes datastore and k8s policy with code 123, naming them', () => {
    expect(() => parseMainNetConf({ datastore_type: 'kubernetes' }, noFiles)).toThrow(
      expect.objectContaining({
        code: 123,
        message: expect.stringContaining('datastore_type "kubernetes"') as unknown,
      }),
    );
    expect(() => parseMainNetConf({ policy: { type: 'k8s' } }, noFiles)).toThrow(
      expect.objectContaining({ code: 123 }),
    );
    expect(parseMainNetConf({ datastore_type: 'etcdv3', policy: { type: '' } }, noFiles).mtu).toBe(
      1500,
    );
  });
});

describe('requireNodenameFile', () => {
  it('needs the file unless optional or the node is named in the netconf', () => {
    const none = { exists: () => false };
    expect(() => {
      requireNodenameFile({}, none);
    }).toThrow('stat /var/lib/calico/nodename: no such file or directory');
    expect(() => {
      requireNodenameFile({ nodename_file: '/etc/n' }, none);
    }).toThrow('stat /etc/n');
    expect(() => {
      requireNodenameFile({ nodename_file_optional: true }, none);
    }).not.toThrow();
    expect(() => {
      requireNodenameFile({ nodename: 'node-1' }, none);
    }).not.toThrow();
    expect(() => {
      requireNodenameFile({}, { exists: () => true });
    }).not.toThrow();
  });
});
