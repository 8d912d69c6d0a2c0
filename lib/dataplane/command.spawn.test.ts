import { describe, expect, it } from 'vitest';
import { nextTurn, spawnedProcessCount, startCommandWhen } from './command';

// startCommandWhen: a process started on a later event-loop turn, or at once when fed first, or
// never when cancelled first.

const CAT = ['/bin/cat'];
const options = { stdin: true, timeoutMs: 5000, step: 'test' };

describe('startCommandWhen', () => {
  it('forks once `when` settles, and the output is the process output', async () => {
    let release = (): void => undefined;
    const when = new Promise<void>((resolve) => {
      release = resolve;
    });
    const before = spawnedProcessCount();
    const started = startCommandWhen(when, CAT, options);
    await nextTurn();
    expect(spawnedProcessCount()).toBe(before);
    release();
    await nextTurn();
    expect(spawnedProcessCount()).toBe(before + 1);
    started.feed('hello');
    expect(await started.output).toEqual({ code: 0, stdout: 'hello', stderr: '' });
  });

  it('forks at once when fed before its turn, and only once', async () => {
    const before = spawnedProcessCount();
    const started = startCommandWhen(nextTurn(), CAT, options);
    started.feed('now');
    expect(spawnedProcessCount()).toBe(before + 1);
    expect((await started.output).stdout).toBe('now');
    await nextTurn();
    expect(spawnedProcessCount()).toBe(before + 1);
  });

  it('never forks when cancelled before its turn', async () => {
    const before = spawnedProcessCount();
    const turn = nextTurn();
    startCommandWhen(turn, CAT, options).cancel();
    await turn;
    await nextTurn();
    expect(spawnedProcessCount()).toBe(before);
  });
});

describe('startCommand exchange', () => {
  it('answers while the process runs, and the rest follows with feed', async () => {
    const started = startCommandWhen(Promise.resolve(), CAT, options);
    const answer = await started.exchange('ping\n', (p) => p.stdout.includes('\n'));
    expect(answer).toEqual({ stdout: 'ping\n', stderr: '' });
    started.feed('done');
    expect(await started.output).toEqual({ code: 0, stdout: 'ping\ndone', stderr: '' });
  });

  it('resolves with the exit when the process ends before answering', async () => {
    const started = startCommandWhen(Promise.resolve(), ['/bin/true'], options);
    const answer = await started.exchange('ignored\n', () => false);
    expect(answer.exited?.code).toBe(0);
  });
});
