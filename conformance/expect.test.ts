import { describe, expect, it } from 'vitest';
import type { ExecResult } from './exec-plugin';
import { checkError, describeExec, isNotImplemented, resultOf } from './expect';

const exec = (
  exitCode: number | null,
  stdout: string,
  extra: Partial<ExecResult> = {},
): ExecResult => ({
  exitCode,
  signal: null,
  stdout,
  stderr: '',
  timedOut: false,
  ...extra,
});

describe('checkError', () => {
  const missing = exec(1, '{"code":4,"msg":"required env variables [CNI_NETNS,CNI_PATH] missing"}');

  it('passes a matching code and message', () => {
    expect(
      checkError(missing, { code: 4, msgHas: ['CNI_NETNS', 'CNI_PATH'] }, 'ADD'),
    ).toBeUndefined();
  });

  it('fails a wrong code, a missing name or missing details, quoting what it saw', () => {
    expect(checkError(missing, { code: 7 }, 'ADD')).toBe(
      'ADD: want code 7, got exit 1 code 4 msg "required env variables [CNI_NETNS,CNI_PATH] missing"',
    );
    expect(checkError(missing, { code: 4, msgHas: ['CNI_IFNAME'] }, 'ADD')).toMatch(
      /naming "CNI_IFNAME"/,
    );
    expect(checkError(missing, { code: 4, detailsHas: ['x'] }, 'ADD')).toBeDefined();
  });

  it('fails an error object printed with exit 0', () => {
    expect(checkError(exec(0, '{"code":4,"msg":"m"}'), { code: 4 }, 'ADD')).toMatch(/got exit 0/);
  });

  it('fails malformed error objects and timeouts', () => {
    expect(checkError(exec(1, '{"code":"4","msg":"m"}'), { code: 4 }, 'ADD')).toMatch(
      /not an integer/,
    );
    expect(checkError(exec(null, '', { timedOut: true }), { code: 4 }, 'ADD')).toMatch(/timed out/);
  });
});

describe('isNotImplemented', () => {
  it('matches only code 101 with "not implemented" on a failed exit', () => {
    const msg = '"msg":"calico: ADD is not implemented yet"';
    expect(isNotImplemented(exec(1, `{"cniVersion":"1.0.0","code":101,${msg}}`))).toBe(true);
    expect(isNotImplemented(exec(1, `{"code":100,${msg}}`))).toBe(false);
    expect(isNotImplemented(exec(1, '{"code":101,"msg":"pool exhausted"}'))).toBe(false);
    expect(isNotImplemented(exec(0, `{"code":101,${msg}}`))).toBe(false);
  });
});

describe('resultOf and describeExec', () => {
  it('returns a result only for exit 0 with one non-error object', () => {
    expect(resultOf(exec(0, '{"cniVersion":"1.0.0","ips":[]}'))).toEqual({
      cniVersion: '1.0.0',
      ips: [],
    });
    expect(resultOf(exec(0, '{"code":1,"msg":"x"}'))).toBeUndefined();
    expect(resultOf(exec(1, '{"cniVersion":"1.0.0"}'))).toBeUndefined();
  });

  it('quotes stderr when stdout is empty', () => {
    expect(describeExec({ ...exec(1, ''), stderr: 'panic: boom\n' })).toBe(
      'exit 1, empty stdout, stderr "panic: boom"',
    );
  });
});
