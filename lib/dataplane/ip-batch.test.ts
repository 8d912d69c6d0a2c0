import { describe, expect, it } from 'vitest';
import { assignOutcomes, nestedFailure, parseBatchFailures } from './ip-batch';

const commands = [
  { command: 'link set dev cali1 up' },
  { command: 'route add 10.0.0.1/32 dev cali1' },
  { command: 'route add 10.0.0.2/32 dev cali1' },
  { command: 'link show dev cali1', prints: true },
];

describe('ip -batch output', () => {
  it('attributes iproute2 messages to the line named by "Command failed -:N"', () => {
    const stderr = [
      'RTNETLINK answers: File exists',
      'Command failed -:2',
      'Error: Nexthop device is not up.',
      'Command failed -:3',
      '',
    ].join('\n');
    expect([...parseBatchFailures(stderr)]).toEqual([
      [2, 'RTNETLINK answers: File exists'],
      [3, 'Error: Nexthop device is not up.'],
    ]);
  });

  it('with -force, gives every line its fate and each show line its own stdout line', () => {
    const lines = assignOutcomes(
      commands,
      {
        code: 1,
        stdout: '[{"ifname":"cali1"}]\n',
        stderr: 'RTNETLINK answers: File exists\nCommand failed -:2\n',
      },
      true,
    );
    expect(lines).toEqual([
      { status: 'ok', output: undefined },
      { status: 'failed', error: 'RTNETLINK answers: File exists' },
      { status: 'ok', output: undefined },
      { status: 'ok', output: '[{"ifname":"cali1"}]' },
    ]);
  });

  it('without -force, nothing after the first failure ran', () => {
    const lines = assignOutcomes(
      commands,
      { code: 1, stdout: '', stderr: 'Cannot find device "cali1"\nCommand failed -:1\n' },
      false,
    );
    expect(lines.map((l) => l.status)).toEqual(['failed', 'not-run', 'not-run', 'not-run']);
  });

  it('fails the whole batch when the process failed before any line (nsenter)', () => {
    const stderr = "nsenter: reassociate to namespace 'ns/net' failed: Invalid argument\n";
    const lines = assignOutcomes(commands, { code: 1, stdout: '', stderr }, true);
    expect(lines[0]).toEqual({ status: 'failed', error: stderr.trim() });
    expect(lines.slice(1).map((l) => l.status)).toEqual(['not-run', 'not-run', 'not-run']);
  });

  it('gives the line that ran a nested batch its messages, and names the nested line that failed', () => {
    const stderr = [
      'RTNETLINK answers: File exists',
      'Command failed /proc/self/fd/4:2',
      'Command failed -:3',
      '',
    ].join('\n');
    const failures = parseBatchFailures(stderr);
    expect([...failures.keys()]).toEqual([3]);
    expect(nestedFailure(failures.get(3) ?? '', '/proc/self/fd/4')).toEqual({
      index: 1,
      error: 'RTNETLINK answers: File exists',
    });
  });

  it('finds no nested line when the nested batch never read one', () => {
    const failures = parseBatchFailures(
      'Cannot open network namespace "pod": No such file or directory\nCommand failed -:1\n',
    );
    expect(nestedFailure(failures.get(1) ?? '', '/proc/self/fd/4')).toBeUndefined();
  });
});
