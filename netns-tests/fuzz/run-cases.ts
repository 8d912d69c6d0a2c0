import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { rawKv } from '../../ipam/testing/ipam-binary';
import { readIpamState } from '../../ipam/testing/ipam-state';
import type { CalicoNode } from '../support/calico-node';
import { ipJson } from '../support/topology';
import type { CaseContext, HostileCase } from './hostile-cases';

// Runs hostile cases against dist/calico and dist/calico-ipam inside a node netns with a real
// etcd, under strace (execve and every file-writing syscall), two at a time (2-core CI machines),
// and checks the contract after each: exit 0 or 1, exactly one JSON object on stdout (or nothing
// for a successful DEL/CHECK), no stack trace, no shell run, no file written but the log file,
// and nothing left behind: after a successful ADD the same invocation's DEL must succeed, and then
// the node's links and routes and etcd's handles, allocations and endpoints are as before.
// Left alone on purpose (state a real ADD creates legitimately and DEL keeps, as Calico's does):
// Node registrations, Profiles, block affinities and empty affine blocks.

const DIST = resolve(__dirname, '..', '..', 'dist');
const WEPS = '/calico/resources/v3/projectcalico.org/workloadendpoints/';
const SHELLS = /(^|\/)(sh|bash|dash|zsh|ash|busybox)$/;
const STACK = /\n\s+at .+(\(|:\d+:\d+)/;

/** One broken rule. */
export interface Violation {
  index: number;
  rule: string;
  detail: string;
}

/** The figures of a run. */
export interface FuzzSummary {
  cases: number;
  byExit: Record<string, number>;
  byCode: Record<string, number>;
  addsSucceeded: number;
  /** Messages of code 999 answers (an error the plugin did not classify), for the report. */
  internal: string[];
  programs: Record<string, number>;
  violations: Violation[];
  ms: number;
}

interface Outcome {
  code: number | null;
  stdout: string;
  trace: string;
}

/** A private work dir (the plugins' cwd and log dir) and the contexts the generator needs. */
export class FuzzBench {
  readonly dir = mkdtempSync('/tmp/calico-fuzz-');
  readonly logFile = join(this.dir, 'calico.log');

  constructor(
    readonly node: CalicoNode,
    readonly options: { podNetns: string; etcdEndpoint: string },
  ) {}

  get podNetns(): string {
    return this.options.podNetns;
  }

  context(plugin: HostileCase['plugin']): CaseContext & { env: Record<string, string> } {
    return {
      netconf: {
        ...this.node.conf({ cniVersion: '1.0.0' }),
        log_file_path: this.logFile,
        log_level: 'debug',
        ...(plugin === 'calico-ipam' ? { type: 'calico-ipam' } : {}),
      },
      podNetns: this.podNetns,
      env: {
        PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
        CNI_PATH: `${DIST}:/usr/lib/cni`,
        CNI_NETNS: this.podNetns,
        CNI_IFNAME: 'eth0',
      },
    };
  }

  /** Runs every case, two at a time, checking as it goes. */
  async run(cases: readonly HostileCase[]): Promise<FuzzSummary> {
    const started = Date.now();
    const summary: FuzzSummary = {
      cases: 0,
      byExit: {},
      byCode: {},
      addsSucceeded: 0,
      internal: [],
      programs: {},
      violations: [],
      ms: 0,
    };
    const baseline = await this.snapshot();
    for (let i = 0; i < cases.length; i += 2) {
      const batch = cases.slice(i, i + 2);
      await Promise.all(batch.map((c) => this.one(c, summary)));
      const now = await this.snapshot();
      if (now !== baseline) {
        summary.violations.push({
          index: batch[0]?.index ?? -1,
          rule: 'state left behind',
          detail: `cases ${batch.map((c) => c.index).join(', ')}: ${diff(baseline, now)}`,
        });
        // Report each leak once: the next batches compare with what is there now.
        return { ...summary, ms: Date.now() - started };
      }
    }
    return { ...summary, ms: Date.now() - started };
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async one(c: HostileCase, summary: FuzzSummary): Promise<void> {
    const fail = (rule: string, detail: string): void => {
      summary.violations.push({
        index: c.index,
        rule,
        detail: `${detail} [${c.mutations.join(' | ')}]`,
      });
    };
    const out = await this.exec(c.plugin, { env: c.env, stdin: c.stdin, tag: `${c.index}` });
    summary.cases++;
    summary.byExit[String(out.code)] = (summary.byExit[String(out.code)] ?? 0) + 1;
    this.checkOutcome(c, out, { fail, summary });
    if (out.code === 0 && c.env.CNI_COMMAND === 'ADD') {
      summary.addsSucceeded++;
      const del = await this.exec(c.plugin, {
        env: { ...c.env, CNI_COMMAND: 'DEL' },
        stdin: c.stdin,
        tag: `${c.index}-del`,
      });
      if (del.code !== 0) fail('DEL after a successful ADD failed', del.stdout.slice(0, 300));
    }
  }

  private checkOutcome(
    c: HostileCase,
    out: Outcome,
    report: { fail: (rule: string, detail: string) => void; summary: FuzzSummary },
  ): void {
    const { fail, summary } = report;
    if (out.code !== 0 && out.code !== 1)
      fail('exit code', `exit ${out.code}: ${out.stdout.slice(0, 200)}`);
    if (STACK.test(out.stdout)) fail('stack trace on stdout', out.stdout.slice(0, 300));
    const text = out.stdout.trim();
    // A successful DEL, CHECK, GC or STATUS prints nothing; so does a run without CNI_COMMAND,
    // which answers a human with its "about" line on stderr (the reference plugins' skel).
    const command = c.env.CNI_COMMAND ?? '';
    const quietOk = out.code === 0 && ['DEL', 'CHECK', 'GC', 'STATUS', ''].includes(command);
    if (text === '' && !quietOk) fail('empty stdout', `exit ${out.code}`);
    if (text !== '') {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        fail('stdout is not one JSON object', text.slice(0, 200));
      }
      if (
        parsed !== undefined &&
        (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      ) {
        fail('stdout is not one JSON object', text.slice(0, 200));
      }
      if (out.code === 1) {
        const error = parsed as { code?: unknown; msg?: unknown } | undefined;
        if (typeof error?.code !== 'number' || typeof error.msg !== 'string') {
          fail('error object without code and msg', text.slice(0, 200));
        } else {
          summary.byCode[String(error.code)] = (summary.byCode[String(error.code)] ?? 0) + 1;
          if (error.code === 999)
            summary.internal.push(`case ${c.index}: ${error.msg.slice(0, 200)}`);
        }
      }
    }
    for (const line of out.trace.split('\n')) {
      const exec = /execve\("([^"]+)"/.exec(line);
      if (exec !== null && !line.includes('ENOENT')) {
        const program = exec[1] ?? '';
        summary.programs[program] = (summary.programs[program] ?? 0) + 1;
        if (SHELLS.test(program)) fail('a shell was run', line);
      }
      const written = /^\d+\s+(\w+)\((?:AT_FDCWD|-?\d+), "([^"]*)"(.*)$/.exec(line);
      if (written === null) continue;
      const [, call = '', path = '', rest = ''] = written;
      const writes = call !== 'openat' || /O_WRONLY|O_RDWR|O_CREAT|O_TRUNC/.test(rest);
      if (!writes || / = -1 /.test(rest)) continue;
      // O_TMPFILE names a directory and makes a file without a name there (the pod end's
      // commands, command-file.ts): nothing can be left behind.
      if (call === 'openat' && /O_TMPFILE/.test(rest)) continue;
      if (
        path === this.logFile ||
        path.startsWith('/dev/') ||
        path.startsWith('/proc/') ||
        path.startsWith('/sys/') ||
        path.startsWith('/run/netns') ||
        path.startsWith('/var/run/netns')
      )
        continue;
      fail('file written outside the log path', `${call} ${path}`);
    }
  }

  private exec(
    plugin: HostileCase['plugin'],
    options: { env: Record<string, string>; stdin: Buffer; tag: string },
  ): Promise<Outcome> {
    const traceFile = join(this.dir, `trace-${options.tag}`);
    const argv = [
      'netns',
      'exec',
      this.node.topology.node.name,
      'strace',
      '-f',
      '-qq',
      '--seccomp-bpf',
      '-o',
      traceFile,
      '-e',
      'trace=execve,openat,creat,mkdir,mkdirat,rename,renameat,renameat2,unlink,unlinkat,symlink,symlinkat,link,linkat,truncate',
      join(DIST, plugin),
    ];
    return new Promise((resolvePromise, reject) => {
      const child = spawn('ip', argv, {
        env: options.env,
        cwd: this.dir,
        stdio: ['pipe', 'pipe', 'ignore'],
      });
      let stdout = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      child.on('error', reject);
      child.stdin.on('error', () => undefined);
      child.on('close', (code) => {
        clearTimeout(timer);
        let trace = '';
        try {
          trace = readFileSync(traceFile, 'utf8');
          rmSync(traceFile);
        } catch {
          trace = '';
        }
        resolvePromise({ code, stdout, trace });
      });
      child.stdin.end(options.stdin);
    });
  }

  private async snapshot(): Promise<string> {
    const ns = this.node.topology.node.name;
    const links = (await ipJson(ns, 'link', 'show')).map((l) => String(l.ifname)).sort();
    const routes = (await ipJson(ns, 'route', 'show')).map((r) => String(r.dst)).sort();
    // A client per check: one client's budget (600 s at most) would not last a full run.
    const kv = rawKv(this.options.etcdEndpoint);
    let state: Awaited<ReturnType<typeof readIpamState>>;
    let weps: string[];
    try {
      state = await readIpamState(kv);
      weps = (await kv.range(WEPS, { prefix: true, keysOnly: true })).kvs.map((x) => x.key);
    } finally {
      kv.close();
    }
    return JSON.stringify({
      links,
      routes,
      allocations: state.allocations,
      handles: [...state.handles.keys()].sort(),
      weps,
    });
  }
}

function diff(before: string, after: string): string {
  const a = JSON.parse(before) as Record<string, unknown>;
  const b = JSON.parse(after) as Record<string, unknown>;
  return Object.keys(b)
    .filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]))
    .map((k) => `${k}: ${JSON.stringify(a[k])} -> ${JSON.stringify(b[k])}`)
    .join('; ')
    .slice(0, 1000);
}

/** A few lines of figures for people. */
export function formatSummary(s: FuzzSummary): string {
  return [
    `${s.cases} cases in ${(s.ms / 1000).toFixed(1)} s; exits ${JSON.stringify(s.byExit)}; ${s.addsSucceeded} ADDs succeeded (each then DELeted)`,
    `error codes ${JSON.stringify(s.byCode)}`,
    `programs executed ${JSON.stringify(s.programs)}`,
    `code 999 (unclassified) answers: ${s.internal.length}${s.internal.map((m) => `\n  ${m}`).join('')}`,
    `${s.violations.length} violations${s.violations
      .slice(0, 20)
      .map((v) => `\n  case ${v.index}: ${v.rule}: ${v.detail}`)
      .join('')}`,
  ].join('\n');
}
