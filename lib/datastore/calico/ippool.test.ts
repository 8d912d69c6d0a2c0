import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../cni/errors';
import { encodeIpPool, parseIpPool, type IpPool } from './ippool';
import { ipPoolKey } from './keys';

const KEY = ipPoolKey('10-0-0-0-24');
/** calico-behaviour.md §7.3, compacted. */
const DOC_EXAMPLE =
  '{"kind":"IPPool","apiVersion":"projectcalico.org/v3","metadata":{"name":"10-0-0-0-24"},' +
  '"spec":{"cidr":"10.0.0.0/24","blockSize":26,"ipipMode":"Never","vxlanMode":"Never","natOutgoing":false,' +
  '"nodeSelector":"all()","allowedUses":["Workload","Tunnel"]}}';

const stored = (spec: Record<string, unknown>, name = 'p'): string =>
  JSON.stringify({ kind: 'IPPool', apiVersion: 'projectcalico.org/v3', metadata: { name }, spec });

describe('IPPool codec', () => {
  it('reads the documented pool', () => {
    expect(parseIpPool(KEY, DOC_EXAMPLE)).toMatchObject({
      metadata: { name: '10-0-0-0-24' },
      spec: {
        cidr: '10.0.0.0/24',
        blockSize: 26,
        ipipMode: 'Never',
        vxlanMode: 'Never',
        natOutgoing: false,
        disabled: false,
        disableBGPExport: false,
        nodeSelector: 'all()',
        namespaceSelector: '',
        allowedUses: ['Workload', 'Tunnel'],
        assignmentMode: 'Automatic',
      },
    });
  });

  it('writes the documented pool back byte for byte', () => {
    expect(encodeIpPool(parseIpPool(KEY, DOC_EXAMPLE))).toBe(DOC_EXAMPLE);
  });

  it('applies Calico’s read defaults to a bare pool, per family', () => {
    const v4 = parseIpPool(KEY, stored({ cidr: '10.1.0.0/16' }));
    expect(v4.spec).toMatchObject({
      blockSize: 26,
      ipipMode: 'Never',
      vxlanMode: 'Never',
      nodeSelector: 'all()',
      allowedUses: ['Workload', 'Tunnel'],
      assignmentMode: 'Automatic',
    });
    const v6 = parseIpPool(
      KEY,
      stored({ cidr: 'fd80:24e2:f998:72d6::/64', blockSize: 0, ipipMode: '' }),
    );
    expect(v6.spec).toMatchObject({
      cidr: 'fd80:24e2:f998:72d6::/64',
      blockSize: 122,
      ipipMode: 'Never',
    });
  });

  it('writes a new pool with the defaults spelled out, as calicoctl does (same JSON as §7.3)', () => {
    const pool: IpPool = {
      metadata: { name: '10-0-0-0-24' },
      spec: {
        cidr: '10.0.0.0/24',
        vxlanMode: 'Never',
        ipipMode: 'Never',
        natOutgoing: false,
        disabled: false,
        disableBGPExport: false,
        blockSize: 26,
        nodeSelector: 'all()',
        namespaceSelector: '',
        allowedUses: ['Workload', 'Tunnel'],
        assignmentMode: 'Automatic',
      },
    };
    const text = encodeIpPool(pool);
    expect(JSON.parse(text)).toEqual(JSON.parse(DOC_EXAMPLE));
    // Go's field order of IPPoolSpec.
    expect(Object.keys((JSON.parse(text) as { spec: object }).spec)).toEqual([
      'cidr',
      'vxlanMode',
      'ipipMode',
      'natOutgoing',
      'blockSize',
      'nodeSelector',
      'allowedUses',
    ]);
    const manual = encodeIpPool({
      ...pool,
      spec: { ...pool.spec, assignmentMode: 'Manual', disabled: true },
    });
    expect(JSON.parse(manual)).toMatchObject({
      spec: { assignmentMode: 'Manual', disabled: true },
    });
  });

  it('keeps unknown fields and Go-escapes selectors', () => {
    const text = stored({
      cidr: '10.0.0.0/16',
      nodeSelector: "a == 'x' && has(b)",
      future: { on: 1 },
    });
    const pool = parseIpPool(KEY, text);
    expect(pool.spec.nodeSelector).toBe("a == 'x' && has(b)");
    pool.spec.disabled = true;
    const written = encodeIpPool(pool);
    expect(written).toContain('"nodeSelector":"a == \'x\' \\u0026\\u0026 has(b)"');
    expect(written).toContain('"future":{"on":1}');
    expect(written).toContain('"disabled":true');
  });

  it.each<[Record<string, unknown>, string]>([
    [
      { cidr: '10.0.0.0/16', blockSize: 19 },
      'spec.blockSize: must be an integer from 20 to 32, got 19',
    ],
    [
      { cidr: '10.0.0.0/16', blockSize: 33 },
      'spec.blockSize: must be an integer from 20 to 32, got 33',
    ],
    [
      { cidr: 'fd00::/48', blockSize: 115 },
      'spec.blockSize: must be an integer from 116 to 128, got 115',
    ],
    [
      { cidr: 'fd00::/48', blockSize: 129 },
      'spec.blockSize: must be an integer from 116 to 128, got 129',
    ],
    [
      { cidr: '10.0.0.0/28', blockSize: 26 },
      'spec.blockSize: 26 is larger than the pool 10.0.0.0/28',
    ],
    [{ cidr: '10.0.0.0' }, 'spec.cidr: "10.0.0.0" is not a CIDR'],
    [
      { cidr: '10.0.0.0/16', ipipMode: 'Sometimes' },
      'spec.ipipMode: must be one of Never, Always, CrossSubnet, got "Sometimes"',
    ],
    [
      { cidr: '10.0.0.0/16', allowedUses: ['Pods'] },
      'spec.allowedUses[0]: must be one of Workload, Tunnel, LoadBalancer',
    ],
    [
      { cidr: '10.0.0.0/16', assignmentMode: 'auto' },
      'spec.assignmentMode: must be one of Automatic, Manual',
    ],
  ])('refuses %j naming the key and field', (spec, message) => {
    expect(() => parseIpPool(KEY, stored(spec))).toThrow(`invalid IPPool at ${KEY}: ${message}`);
    try {
      parseIpPool(KEY, stored(spec));
    } catch (err) {
      expect(err).toMatchObject({ code: ErrorCode.internal });
    }
  });

  it('accepts the block size limits themselves', () => {
    expect(parseIpPool(KEY, stored({ cidr: '10.0.0.0/20', blockSize: 20 })).spec.blockSize).toBe(
      20,
    );
    expect(parseIpPool(KEY, stored({ cidr: '10.0.0.0/20', blockSize: 32 })).spec.blockSize).toBe(
      32,
    );
    expect(parseIpPool(KEY, stored({ cidr: 'fd00::/64', blockSize: 116 })).spec.blockSize).toBe(
      116,
    );
    expect(parseIpPool(KEY, stored({ cidr: 'fd00::/64', blockSize: 128 })).spec.blockSize).toBe(
      128,
    );
  });

  it('refuses another kind at this key', () => {
    expect(() => parseIpPool(KEY, '{"kind":"Node","metadata":{"name":"n"},"spec":{}}')).toThrow(
      `invalid IPPool at ${KEY}: kind: must be "IPPool", got "Node"`,
    );
  });
});
