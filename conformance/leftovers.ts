import type { HarnessContext } from './context';
import { diffState, type NetnsState, type Pod } from './sandbox';

/** Run `body` with a fresh pod netns (undefined when not root), removing the pod afterwards. */
export async function withPod<T>(
  ctx: HarnessContext,
  body: (pod: Pod | undefined) => Promise<T>,
): Promise<T> {
  const pod = await ctx.sandbox?.newPod();
  try {
    return await body(pod);
  } finally {
    if (pod !== undefined) await ctx.sandbox?.removePod(pod);
  }
}

/**
 * Snapshot the node netns and `pod` now; the returned function says what changed since
 * (undefined: nothing, or no sandbox to look at). In the node netns only additions count.
 */
export async function watchState(
  ctx: HarnessContext,
  pod: Pod | undefined,
): Promise<() => Promise<string | undefined>> {
  const sandbox = ctx.sandbox;
  if (sandbox === undefined) return () => Promise.resolve(undefined);
  const names = [sandbox.node, ...(pod === undefined ? [] : [pod.name])];
  const take = (): Promise<NetnsState[]> => Promise.all(names.map((n) => sandbox.state(n)));
  const before = await take();
  return async () => {
    const after = await take();
    const diffs = names
      .map((name, i) => {
        const b = before[i];
        const a = after[i];
        const isNode = name === sandbox.node;
        const d = b === undefined || a === undefined ? undefined : diffState(b, a, isNode);
        return d === undefined ? undefined : `${isNode ? 'node' : 'pod'} netns: ${d}`;
      })
      .filter((d): d is string => d !== undefined);
    return diffs.length === 0 ? undefined : diffs.join('; ');
  };
}
