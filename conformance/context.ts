import { randomBytes } from 'node:crypto';
import { dirname } from 'node:path';
import { execPlugin, type ExecResult } from './exec-plugin';
import type { ConfSource, PluginKind, TempArea } from './netconf';
import type { Outcome } from './outcome';
import type { Sandbox } from './sandbox';
import { isObject, parseStdout } from './stdout';

/** Every exec gets this long before SIGKILL. */
export const EXEC_TIMEOUT_MS = 20_000;

/** PATH as a runtime would pass it, plus the directory of this Node (bundles run on `node`). */
export const RUNTIME_PATH = [
  ...new Set([
    '/usr/local/sbin',
    '/usr/local/bin',
    '/usr/sbin',
    '/usr/bin',
    '/sbin',
    '/bin',
    dirname(process.execPath),
  ]),
].join(':');

/** One execution: env (undefined values are left out), stdin, and where to run. */
export interface Invocation {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stdin?: string | undefined;
  /** Run in the harness's own netns instead of the node netns (side-effect-free probes only). */
  readonly inHost?: boolean;
  readonly cwd?: string;
  /** Short description for hygiene reports, e.g. `cid "bad/cid"`. */
  readonly note?: string;
  /** SIGKILL the plugin after this long (default EXEC_TIMEOUT_MS): item 57 kills it halfway. */
  readonly timeoutMs?: number;
}

/** An execution as remembered for the hygiene items (J). */
export interface ExecRecord extends ExecResult {
  readonly item: string;
  readonly command: string;
  readonly note: string;
  /** `cniVersion` of the stdin config, when stdin was a JSON object with a string one. */
  readonly configVersion: string | undefined;
  /** The harness set a kill timer on purpose (item 57): not judged by the hygiene items. */
  readonly killTimer: boolean;
}

/** `cniVersion` of a stdin text, if it has one. */
function configVersionOf(stdin: string | undefined): string | undefined {
  if (stdin === undefined) return undefined;
  const shape = parseStdout(stdin);
  if (shape.kind !== 'one' || !isObject(shape.value)) return undefined;
  const v = shape.value.cniVersion;
  return typeof v === 'string' ? v : undefined;
}

/** Runs the plugin under test, inside the node netns when there is one, and records every run. */
export class Runner {
  readonly records: ExecRecord[] = [];
  /** Checklist item currently running, stamped on each record. */
  item = 'setup';

  constructor(
    readonly plugin: string,
    readonly sandbox: Sandbox | undefined,
  ) {}

  /** Execute the plugin once. */
  async run(inv: Invocation): Promise<ExecRecord> {
    const env: Record<string, string> = { PATH: RUNTIME_PATH };
    for (const [k, v] of Object.entries(inv.env)) if (v !== undefined) env[k] = v;
    const wrapper = inv.inHost === true ? undefined : this.sandbox?.wrapper;
    const started = Date.now();
    const result = await execPlugin(this.plugin, {
      env,
      stdin: inv.stdin,
      timeoutMs: inv.timeoutMs ?? EXEC_TIMEOUT_MS,
      ...(wrapper === undefined ? {} : { wrapper }),
      ...(inv.cwd === undefined ? {} : { cwd: inv.cwd }),
    });
    const record: ExecRecord = {
      ...result,
      item: this.item,
      command: env.CNI_COMMAND ?? '(unset)',
      note: inv.note ?? '',
      configVersion: configVersionOf(inv.stdin),
      killTimer: inv.timeoutMs !== undefined,
    };
    this.records.push(record);
    // CNF_TRACE=1: one stderr line per execution, for finding slow or surprising items.
    if (process.env.CNF_TRACE === '1') {
      process.stderr.write(
        `trace ${this.item} ${record.command} (${record.note}) ${String(Date.now() - started)} ms exit ${String(record.exitCode)}\n`,
      );
    }
    return record;
  }
}

/** Everything a check may use. */
export interface HarnessContext {
  readonly plugin: string;
  readonly kind: PluginKind;
  readonly runner: Runner;
  /** Undefined when not root: items that need namespaces are n/a. */
  readonly sandbox: Sandbox | undefined;
  readonly confs: ConfSource;
  readonly tmp: TempArea;
  /** CNI_PATH: the plugin's directory, then /usr/lib/cni. */
  readonly cniPath: string;
  /** `supportedVersions` from the plugin's VERSION answer (empty if it had none). */
  readonly supported: readonly string[];
  /** The newest known version the plugin advertises: the default `cniVersion`. */
  readonly version: string;
}

/** For items that concern main and IPAM plugins alike. */
export const ANY_KIND: readonly PluginKind[] = ['main', 'ipam'];

/** One checklist item. */
export interface Check {
  readonly id: string;
  readonly title: string;
  /** Plugin kinds the item concerns; the others get n/a. */
  readonly kinds: readonly PluginKind[];
  readonly run: (ctx: HarnessContext) => Promise<Outcome>;
}

/** A container ID that passes the spec regex and is unique to this run. */
export function newContainerId(): string {
  return `cnf-${randomBytes(6).toString('hex')}`;
}

/** A netns path that does not exist, for executions expected to stop at validation. */
export function absentNetns(): string {
  return `/var/run/netns/cnf-absent-${randomBytes(4).toString('hex')}`;
}

/**
 * A complete, valid CNI environment for `command`; `overrides` replace variables, and an
 * override of undefined removes one.
 */
export function cniEnv(
  ctx: HarnessContext,
  command: string | undefined,
  overrides: Readonly<Record<string, string | undefined>> = {},
): Record<string, string | undefined> {
  return {
    CNI_COMMAND: command,
    CNI_CONTAINERID: newContainerId(),
    CNI_NETNS: absentNetns(),
    CNI_IFNAME: 'eth0',
    CNI_PATH: ctx.cniPath,
    ...overrides,
  };
}

/** Stdin text of a fresh config at `version` (default: the version under test). */
export function confText(ctx: HarnessContext, version: string = ctx.version): string {
  return JSON.stringify(ctx.confs.make(version));
}
