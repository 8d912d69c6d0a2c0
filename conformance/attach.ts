import { cniEnv, newContainerId, type ExecRecord, type HarnessContext } from './context';
import { describeExec, isNotImplemented, resultOf } from './expect';
import { ONLY_ADDRESS, type NetConf } from './netconf';
import { fail, na, NEEDS_ROOT, NOT_IMPLEMENTED, pass, type Outcome } from './outcome';
import type { Pod } from './sandbox';

/** A successful ADD into a pod netns the harness created. */
export interface Attachment {
  readonly pod: Pod;
  /** The ADD environment; DEL and CHECK reuse it with another CNI_COMMAND. */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stdin: string;
  readonly result: Record<string, unknown>;
  readonly record: ExecRecord;
}

/** Either an attachment, or the outcome the dependent item gets (n/a or fail) and why. */
export type Attempt =
  | { readonly ok: true; readonly att: Attachment }
  | { readonly ok: false; readonly outcome: Outcome; readonly record?: ExecRecord };

/** Options of one ADD. */
export interface AttachOptions {
  /** Environment overrides on top of a valid ADD environment. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Exact stdin text; default `JSON.stringify(conf)`. */
  readonly stdin?: string;
  readonly label?: string;
}

/**
 * ADD `conf` into a fresh pod netns. Anything but success becomes the item's outcome: n/a when
 * not root or when the plugin says ADD is not implemented yet (code 101), else fail.
 */
export async function attach(
  ctx: HarnessContext,
  conf: NetConf,
  opts: AttachOptions = {},
): Promise<Attempt> {
  if (ctx.sandbox === undefined) return { ok: false, outcome: na(NEEDS_ROOT) };
  const label = opts.label ?? 'ADD';
  const pod = await ctx.sandbox.newPod();
  const env = cniEnv(ctx, 'ADD', { CNI_NETNS: pod.path, ...opts.env });
  const stdin = opts.stdin ?? JSON.stringify(conf);
  const record = await ctx.runner.run({ env, stdin, note: label });
  const result = resultOf(record);
  if (result !== undefined) return { ok: true, att: { pod, env, stdin, result, record } };
  // A runtime DELs after a failed ADD (spec 1.0); whatever the ADD left goes with the pod.
  await ctx.runner.run({
    env: { ...env, CNI_COMMAND: 'DEL' },
    stdin,
    note: `DEL after failed ${label}`,
  });
  await ctx.sandbox.removePod(pod);
  const outcome = isNotImplemented(record)
    ? na(NOT_IMPLEMENTED)
    : fail(`${label} failed: ${describeExec(record)}`);
  return { ok: false, outcome, record };
}

/** DEL an attachment with its ADD environment and stdin (plus `overrides`), then drop its pod. */
export async function detach(
  ctx: HarnessContext,
  att: Attachment,
  overrides: Readonly<Record<string, string | undefined>> = {},
): Promise<ExecRecord> {
  const record = await ctx.runner.run({
    env: { ...att.env, CNI_COMMAND: 'DEL', ...overrides },
    stdin: att.stdin,
    note: 'DEL',
  });
  await ctx.sandbox?.removePod(att.pod);
  return record;
}

/** Run `body` on a fresh attachment of `conf`, always DELeting it afterwards. */
export async function withAttachment(
  ctx: HarnessContext,
  conf: NetConf,
  opts: AttachOptions,
  body: (att: Attachment) => Promise<Outcome>,
): Promise<Outcome> {
  const attempt = await attach(ctx, conf, opts);
  if (!attempt.ok) return attempt.outcome;
  try {
    return await body(attempt.att);
  } finally {
    await detach(ctx, attempt.att);
  }
}

/** Reason used when release cannot be verified with a custom config. */
export const RELEASE_UNVERIFIABLE =
  'release verification needs harness-owned IPAM state (one address); --netconf given';

/**
 * With harness-owned IPAM state (one address): pass when that address is free again, proven by
 * ADDing another container; fail when it is not. Custom configs: n/a.
 */
export async function checkReleased(ctx: HarnessContext, conf: NetConf): Promise<Outcome> {
  if (!ctx.confs.harnessOwned) return na(RELEASE_UNVERIFIABLE);
  const probe = await attach(ctx, conf, {
    env: { CNI_CONTAINERID: newContainerId() },
    label: 'ADD of another container',
  });
  if (probe.ok) {
    await detach(ctx, probe.att);
    return pass();
  }
  const got = probe.record === undefined ? '' : `: ${describeExec(probe.record)}`;
  return fail(`address ${ONLY_ADDRESS} not released: ADD of another container failed${got}`);
}
