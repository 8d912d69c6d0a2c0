import { EventEmitter } from 'node:events';
import * as realFs from 'node:fs';
import { createRequire } from 'node:module';
import { PassThrough } from 'node:stream';

// The node built-ins a training run of a plugin bundle sees instead of the real ones: processes
// that answer as iproute2, nsenter and sysctl would for a veth that was made, and an fs that reads
// the netconf from "stdin", captures stdout and stderr, and never writes a sysctl. Nothing on the
// build machine changes, and no root, netns or iproute2 is needed. The plugin's own modules run
// unchanged on top, which is what the code cache has to learn.

const HOST_MAC = 'ee:ee:ee:ee:ee:ee';
/**
 * A pod netns with a name under /var/run/netns, as containerd makes them: the fake fs shows it as
 * the training process's own netns seen by pid, a real nsfs file.
 */
export const TRAINING_NETNS = '/var/run/netns/calico-code-cache-training';
const realRequire = createRequire(import.meta.url);

/** What the bundle printed and ran. */
export interface FakeHostLog {
  stdout: string;
  stderr: string;
  commands: string[][];
}

/** The `require` to hand to a bundle: the fakes for fs and child_process, the rest real. */
export function fakeRequire(options: { stdin: () => string; log: FakeHostLog }): NodeJS.Require {
  const fs = fakeFs(options);
  const childProcess = { spawn: fakeSpawn(options.log) };
  const require = ((id: string): unknown => {
    const name = id.replace(/^node:/, '');
    if (name === 'fs') return fs;
    if (name === 'child_process') return childProcess;
    return realRequire(id);
  }) as NodeJS.Require;
  return require;
}

function fakeFs(options: { stdin: () => string; log: FakeHostLog }): typeof realFs {
  /** Files the plugin opened for writing (the pod end's file of commands): written for real. */
  const writable = new Set<number>();
  const overrides: Partial<typeof realFs> = {
    readFileSync: ((path: realFs.PathOrFileDescriptor, opts?: unknown) =>
      path === 0
        ? Buffer.from(options.stdin())
        : realFs.readFileSync(path, opts as undefined)) as typeof realFs.readFileSync,
    writeSync: ((fd: number, data: Buffer | string, ...rest: unknown[]) => {
      if (writable.has(fd)) return realFs.writeSync(fd, data as Buffer, ...(rest as [number]));
      if (fd !== 1 && fd !== 2) throw new Error(`training run wrote to fd ${fd}`);
      const text = typeof data === 'string' ? data : data.toString('utf8');
      if (fd === 1) options.log.stdout += text;
      else options.log.stderr += text;
      return typeof data === 'string' ? Buffer.byteLength(data) : data.length;
    }) as typeof realFs.writeSync,
    writeFileSync: (path: realFs.PathOrFileDescriptor, data: unknown, opts?: unknown) => {
      // The host end's sysctls: accepted, not written.
      if (typeof path === 'string' && path.startsWith('/proc/sys/')) return;
      realFs.writeFileSync(path, data as string, opts as undefined);
    },
    // CNI_NETNS is the training process's own netns by its pid (a real nsfs file); this makes the
    // plugin's view of its own netns another one.
    statSync: ((path: realFs.PathLike, opts?: unknown) => {
      const stat = realFs.statSync(namedNetns(path), opts as undefined);
      // The plugin stats its own netns without options: never undefined here.
      if (path === '/proc/self/ns/net')
        return Object.assign(Object.create(stat) as realFs.Stats, { ino: -1 });
      return stat;
    }) as typeof realFs.statSync,
    statfsSync: ((path: realFs.PathLike, opts?: unknown) =>
      realFs.statfsSync(namedNetns(path), opts as undefined)) as typeof realFs.statfsSync,
    openSync: (path: realFs.PathLike, flags?: realFs.OpenMode, mode?: realFs.Mode | null) => {
      const fd = realFs.openSync(namedNetns(path), flags ?? 'r', mode);
      const { O_WRONLY, O_RDWR } = realFs.constants;
      if (typeof flags === 'number' && (flags & (O_WRONLY | O_RDWR)) !== 0) writable.add(fd);
      return fd;
    },
    closeSync: (fd: number) => {
      writable.delete(fd);
      realFs.closeSync(fd);
    },
  };
  return new Proxy(realFs, {
    get: (target, prop, receiver) =>
      prop in overrides
        ? overrides[prop as keyof typeof overrides]
        : (Reflect.get(target, prop, receiver) as unknown),
  });
}

/** TRAINING_NETNS stands for the training process's netns by pid. */
function namedNetns(path: realFs.PathLike): realFs.PathLike {
  return path === TRAINING_NETNS ? `/proc/${process.pid}/ns/net` : path;
}

/** A spawn whose children answer at once, the way the real tools do on success. */
function fakeSpawn(log: FakeHostLog) {
  let containerMac = '02:00:00:00:00:01';
  return (file: string, args: readonly string[], options?: { stdio?: unknown[] }) => {
    const argv = [file, ...args];
    log.commands.push(argv);
    const child = new EventEmitter() as EventEmitter & {
      stdin: PassThrough | null;
      stdout: PassThrough;
      stderr: PassThrough;
      pid: number;
      kill: () => boolean;
    };
    child.stdout = new PassThrough();
    child.stderr = new PassThrough();
    child.pid = 1;
    child.kill = () => true;
    const pipedStdin = options?.stdio?.[0] === 'pipe';
    child.stdin = pipedStdin ? new PassThrough() : null;
    // nsenter --net=POD ip ..., or ip -n POD ...
    const inNetns = argv.some((a) => a.startsWith('--net=') || a === '-n');
    // Like `ip -batch -`, each line is answered as it arrives: an ADD waits for the answer to
    // `link show` after `link add` before it goes on.
    const answer = (lines: readonly string[], inNetns: boolean): void => {
      for (const line of lines) {
        // The pod end's nested batch (`netns exec POD ip -j -batch /proc/self/fd/N`): its lines
        // are in the file the parent passed as fd N, and run in the pod netns.
        const nested = /^netns exec \S+ \S+ -j -batch \/proc\/self\/fd\/(\d+)$/.exec(line.trim());
        const fd = options?.stdio?.[Number(nested?.[1])];
        if (typeof fd === 'number') {
          answer(realFs.readFileSync(`/proc/self/fd/${fd}`, 'utf8').split('\n'), true);
          continue;
        }
        // The container end's MAC, when the ADD chose one, is the last `address` of `link add`.
        const chosen = /^link add .* address (\S+) netns \S+$/.exec(line.trim())?.[1];
        if (chosen !== undefined) containerMac = chosen;
        const name = /^link show dev (\S+)$/.exec(line.trim())?.[1];
        if (name === undefined) continue;
        const address = inNetns ? containerMac : HOST_MAC;
        child.stdout.write(`[{"ifindex":7,"ifname":"${name}","address":"${address}"}]\n`);
      }
    };
    const finish = (): void => {
      child.stdout.end();
      child.stderr.end();
      setImmediate(() => {
        child.emit('exit', 0, null);
        child.emit('close', 0, null);
      });
    };
    if (child.stdin === null) {
      setImmediate(finish);
    } else {
      let pending = '';
      child.stdin.on('data', (chunk: Buffer) => {
        const lines = (pending + chunk.toString('utf8')).split('\n');
        pending = lines.pop() ?? '';
        answer(lines, inNetns);
      });
      child.stdin.on('end', () => {
        answer([pending], inNetns);
        finish();
      });
    }
    return child;
  };
}
