import { connect, createServer, type Server, type Socket } from 'node:net';
import { holdExit } from '../lib/process-exit';
import { raiseThreadPriority } from '../lib/thread-priority';

/** A held host lock; release it exactly once (releasing twice is harmless). */
export interface HostLock {
  /** False when the wait ran out and the caller went on without the lock (best effort). */
  readonly held: boolean;
  /** Another invocation held the lock first: whatever the caller read before may be stale. */
  readonly waited: boolean;
  /** What the predecessor handed over on release (see release); empty when there was none. */
  readonly handedOver: readonly string[];
  /** The text the predecessor handed over with them, if any (see release). */
  readonly handedState?: string;
  /**
   * Lets go, waking the successor and handing it `handOver` (IPAM: the blocks it just read, which
   * the successor's first read can then include) and `state` (IPAM: the node's keys as its commit
   * left them, see handed-state.ts). At most MAX_HAND_OVER short strings go, and a state of at
   * most MAX_STATE_BYTES bytes.
   */
  release: (handOver?: readonly string[], state?: string) => Promise<void>;
}

/** What a release may hand over: a few block CIDRs (a host owns 20 blocks by default). */
const MAX_HAND_OVER = 20;
const MAX_HAND_OVER_LENGTH = 64;
/** In UTF-8 bytes, as the wake-up is read: 20 full /26 blocks take ~320 KB of Calico's JSON. */
const MAX_STATE_BYTES = 1 << 20;
/** A registration, or a wake-up without a state, is one short line. */
const MAX_LINE = 4096;

/**
 * Serialises this host's IPAM invocations, as Calico's flock on `ipam_lock_file` does, with a
 * bounded wait. The lock is a Linux abstract unix socket named after the lock path: the kernel
 * frees it when the holder dies, even by SIGKILL, so a crashed plugin never leaves a stale lock and
 * no file is written. Abstract names are per network namespace, which is per host for a CNI plugin
 * (it runs in the host namespace).
 *
 * Waiters queue in arrival order and each sleeps on its predecessor alone (as an MCS lock does):
 * the holder's socket answers a newcomer with the name of the queue's last waiter, and on release
 * the holder wakes only its successor, handing it the queue. A release therefore wakes one
 * process, not all of them: with 100 ADDs on a 2-core node, waking every waiter on every release
 * cost ~3.7 s of CPU in ~5,000 futile retries. A queue broken by a waiter's death falls back to
 * waiting on the holder and trying again.
 *
 * When the wait runs out the caller goes on without the lock, as upstream does: every datastore
 * write is compare-and-swap anyway; the lock only spares retries. For the same reason a rare race
 * (a newcomer taking the lock between a release and the successor's turn) lets two invocations in
 * at once rather than being prevented at the cost of a slower release.
 */
export async function acquireHostLock(
  lockPath: string,
  options: {
    waitMs: number;
    /** Called once, when the lock turns out to be held and the wait begins. */
    onWait?: () => void;
  },
): Promise<HostLock> {
  const name = lockName(lockPath);
  const deadline = Date.now() + options.waitMs;
  const node = new QueueNode(name);
  let waited = false;
  // After a broken queue (a predecessor died), wait on the holder and retry, without queueing.
  let queued = true;
  // The last waiter queued behind us, when we queue again after losing the name.
  let chainTail: string | undefined;
  for (;;) {
    // A holder handing over to its successor keeps the lock's name free for it: wait that out.
    const handover = await connectTo(handoverName(name));
    if (handover === undefined) attempts++;
    const server = handover === undefined ? await tryListen(name) : undefined;
    if (server !== undefined) {
      return holding({
        server,
        node,
        tail: chainTail,
        waited,
        handedOver: [],
        handedState: undefined,
      });
    }
    if (!waited) options.onWait?.();
    waited = true;
    const left = deadline - Date.now();
    if (left <= 0) {
      handover?.destroy();
      node.close();
      return { held: false, waited, handedOver: [], release: () => Promise.resolve() };
    }
    if (handover !== undefined) {
      await untilClosed(handover, left);
      handover.destroy();
      continue;
    }
    if (!queued) {
      await waitForRelease(name, left);
      continue;
    }
    const turn = await node.waitForTurn(left, chainTail);
    if (turn.kind === 'retry') continue;
    if (turn.kind === 'broken') {
      queued = false;
      continue;
    }
    if (turn.kind === 'timeout') continue;
    // Our turn: take the name (and with it the queue's registrations), then let the predecessor
    // go. Should a newcomer have taken it all the same, queue behind it, bringing the waiters
    // behind us along, so that the queues merge instead of running side by side.
    attempts++;
    const taken = await tryListen(name);
    turn.predecessor.destroy();
    if (taken !== undefined) {
      return holding({
        server: taken,
        node,
        tail: turn.tail,
        waited,
        handedOver: turn.handedOver,
        handedState: turn.handedState,
      });
    }
    chainTail = turn.tail;
  }
}

/**
 * True when another invocation holds the lock right now (its socket accepts a connection). A
 * hint, not a lock: by the time the caller acts it may have changed.
 */
export async function hostLockBusy(lockPath: string): Promise<boolean> {
  const holder = await connectTo(lockName(lockPath));
  holder?.destroy();
  return holder !== undefined;
}

let attempts = 0;

/**
 * How many times this process tried to take a lock's name: about twice per waiter with the queue,
 * against once per waiter per release when every release woke every waiter (for tests).
 */
export function lockAttempts(): number {
  return attempts;
}

/** The abstract socket name (leading NUL) of a lock path. */
function lockName(lockPath: string): string {
  return `\0calico-ipam-lock:${lockPath}`;
}

/** Held by a releasing holder until its successor has the lock's name. */
function handoverName(lock: string): string {
  return `${lock}!`;
}

/** How long a releasing holder keeps newcomers off for a successor that does not come. */
const HANDOVER_MS = 500;

/** What waiting in the queue came to. */
type Turn =
  | {
      kind: 'go';
      tail: string | undefined;
      predecessor: Socket;
      handedOver: string[];
      handedState: string | undefined;
    }
  | { kind: 'retry' }
  | { kind: 'broken' }
  | { kind: 'timeout' };

/**
 * This invocation's place in the queue: a socket of its own (`<lock>~<pid>~<random>`) that its
 * successor connects to, and the connections of successors waiting to be woken.
 */
class QueueNode {
  readonly name: string;
  private server: Server | undefined;
  private readonly successors = new Set<Socket>();

  constructor(private readonly lock: string) {
    this.name = `${lock}~${process.pid}~${Math.random().toString(36).slice(2, 10)}`;
  }

  /** Registers with the holder and sleeps until the predecessor hands over (or dies). */
  async waitForTurn(ms: number, chainTail: string | undefined): Promise<Turn> {
    const end = Date.now() + ms;
    await this.listen();
    // An older plugin holding the lock never answers: its socket closing is the answer then.
    const registration = await register(
      this.lock,
      JSON.stringify([this.name, chainTail ?? '']),
      ms,
    );
    if (registration === 'timeout') return { kind: 'timeout' };
    if (registration === undefined) return { kind: 'retry' };
    const { socket, predecessor } = registration;
    let waitOn = socket;
    // '' : the holder itself is the predecessor. Our own name: the queue behind the holder was
    // broken and came back round to us; the holder is then the nearest live predecessor.
    if (predecessor !== '' && predecessor !== this.name) {
      socket.destroy();
      const next = await connectTo(predecessor);
      if (next === undefined) return { kind: 'broken' };
      waitOn = next;
    }
    return waitForGo(waitOn, Math.max(0, end - Date.now()));
  }

  /** The successors' connections, to wake on release. */
  waiting(): Socket[] {
    return [...this.successors];
  }

  /** The lock this node queues for. */
  get lockName(): string {
    return this.lock;
  }

  /** Adds a successor that registered with the holder (this process) directly. */
  follow(socket: Socket): void {
    this.successors.add(socket);
    socket.once('close', () => this.successors.delete(socket));
  }

  /** Stops taking successors; with `wake`, tells the ones waiting that it is their turn. */
  close(wake?: string): void {
    this.server?.close();
    for (const socket of this.successors) {
      if (wake === undefined) socket.destroy();
      else socket.end(wake);
    }
  }

  private async listen(): Promise<void> {
    if (this.server !== undefined) return;
    const server = await tryListen(this.name);
    if (server === undefined) throw new Error(`lock queue name ${this.name} is taken`);
    server.on('connection', (socket: Socket) => {
      socket.on('error', () => undefined);
      this.follow(socket);
    });
    server.unref();
    this.server = server;
  }
}

function holding(options: {
  server: Server | undefined;
  node: QueueNode;
  tail: string | undefined;
  waited: boolean;
  handedOver: readonly string[];
  handedState: string | undefined;
}): HostLock {
  const { server, node, waited, handedOver, handedState } = options;
  let tail = options.tail === node.name ? undefined : options.tail;
  const pending = new Set<Socket>();
  // The registrar: each newcomer sends `["<its node>", "<last waiter behind it, or empty>"]`
  // (JSON: names hold the lock path) and is told, as a JSON string, whom to wait on.
  server?.on('connection', (socket: Socket) => {
    socket.on('error', () => undefined);
    pending.add(socket);
    readLine(socket, (line) => {
      pending.delete(socket);
      const registration = parseRegistration(line);
      if (registration === undefined) {
        socket.destroy();
        return;
      }
      const [newcomer, itsTail] = registration;
      // No predecessor but this holder for the queue's tail itself, nor for a waiter that brings
      // the queue's tail along (it lost the name to this holder, and the queue ends behind it):
      // told to wait on that tail, it would wait on its own followers, and the queue would stall
      // in a cycle until every wait in it ran out.
      const predecessor =
        tail === newcomer || (itsTail !== '' && tail === itsTail) ? undefined : tail;
      socket.write(`${JSON.stringify(predecessor ?? '')}\n`);
      // No queue before it: the newcomer waits on this very connection.
      if (predecessor === undefined) node.follow(socket);
      tail = itsTail === '' ? newcomer : itsTail;
    });
  });
  server?.unref();
  // A priority ceiling while the lock is held (see lib/thread-priority.ts).
  const lowerPriority = raiseThreadPriority();
  let released = false;
  return {
    held: true,
    waited,
    handedOver,
    ...(handedState === undefined ? {} : { handedState }),
    release: async (handOver = [], state) => {
      if (released) return;
      released = true;
      lowerPriority();
      const successors = node.waiting();
      // Keep newcomers from taking the name in the moment between our letting go and the
      // successor taking it: they would run beside it, and their commits would collide.
      const handover =
        successors.length > 0 && server !== undefined
          ? await holdName(handoverName(node.lockName))
          : undefined;
      server?.close();
      // Newcomers that have not been told their place try again on their own.
      for (const socket of pending) socket.destroy();
      const go = ['go', tail ?? '', handedOverOf(handOver)];
      if (state !== undefined && Buffer.byteLength(state) <= MAX_STATE_BYTES) go.push(state);
      node.close(`${JSON.stringify(go)}\n`);
      if (successors.length === 0) return;
      // The successor closes its connection once it holds the name (or dies); the handover
      // lock goes then, or after HANDOVER_MS. Our process stays until then (the wake-up may
      // still be in its socket's queue), the caller does not: the plugin must not end at once.
      const releaseExit = holdExit();
      const done = (): void => {
        clearTimeout(timer);
        handover?.close();
        releaseExit();
      };
      const timer = setTimeout(done, HANDOVER_MS);
      void Promise.all(successors.map((s) => untilClosed(s, HANDOVER_MS))).then(done);
    },
  };
}

/** Connects to the holder and registers `node`; undefined when there is no holder any more. */
function register(
  lock: string,
  line: string,
  ms: number,
): Promise<{ socket: Socket; predecessor: string } | 'timeout' | undefined> {
  return new Promise((resolve) => {
    const socket = connect(lock);
    socket.on('error', () => undefined);
    socket.once('connect', () => {
      socket.write(`${line}\n`);
    });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve('timeout');
    }, ms);
    readLine(socket, (line) => {
      clearTimeout(timer);
      const predecessor = parseJson(line);
      if (typeof predecessor !== 'string') {
        socket.destroy();
        resolve(undefined);
      } else {
        resolve({ socket, predecessor });
      }
    });
  });
}

function connectTo(name: string): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const socket = connect(name);
    let connected = false;
    socket.once('connect', () => {
      connected = true;
      resolve(socket);
    });
    socket.on('error', () => {
      socket.destroy();
      if (!connected) resolve(undefined);
    });
  });
}

/**
 * Takes an abstract name until `close`, which also drops whoever connected to wait on it;
 * undefined when it is taken already.
 */
async function holdName(name: string): Promise<{ close: () => void } | undefined> {
  const server = await tryListen(name);
  if (server === undefined) return undefined;
  const waiting = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    socket.on('error', () => undefined);
    waiting.add(socket);
  });
  return {
    close: () => {
      server.close();
      for (const socket of waiting) socket.destroy();
    },
  };
}

/**
 * Sleeps on the predecessor's connection until it says `["go", "<tail>", [handed over], state]`
 * (an older plugin sends neither of the last two) or goes away.
 */
function waitForGo(socket: Socket, ms: number): Promise<Turn> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ kind: 'timeout' });
    }, ms);
    socket.on('error', () => undefined);
    readLine(
      socket,
      (line) => {
        clearTimeout(timer);
        const go = parseJson(line);
        if (!Array.isArray(go) || go[0] !== 'go' || typeof go[1] !== 'string') {
          socket.destroy();
          resolve({ kind: 'broken' });
        } else {
          resolve({
            kind: 'go',
            tail: go[1] === '' ? undefined : go[1],
            predecessor: socket,
            handedOver: handedOverOf(go[2]),
            handedState: typeof go[3] === 'string' ? go[3] : undefined,
          });
        }
      },
      MAX_STATE_BYTES + MAX_LINE,
    );
  });
}

/** The strings a predecessor handed over, within the limits a release keeps to; else none. */
function handedOverOf(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  return value
    .filter((v): v is string => typeof v === 'string' && v.length <= MAX_HAND_OVER_LENGTH)
    .slice(0, MAX_HAND_OVER);
}

function parseJson(line: string | undefined): unknown {
  if (line === undefined) return undefined;
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}

/** A newcomer's `[node, tail]`, or undefined for anything else (a probe, an older plugin). */
function parseRegistration(line: string | undefined): [string, string] | undefined {
  const value = parseJson(line);
  if (!Array.isArray(value) || value.length !== 2) return undefined;
  const [node, tail] = value as unknown[];
  return typeof node === 'string' && node !== '' && typeof tail === 'string'
    ? [node, tail]
    : undefined;
}

/** What came after a line that readLine returned, for the next readLine of the same socket. */
const unread = new WeakMap<Socket, Buffer>();

/**
 * Calls `done` once with the next line from `socket`, or undefined if it closes first. Bytes after
 * the line are kept for the next call: a holder that answers a registration and releases at once
 * sends the answer and the wake-up in one chunk, and losing the second line would break the
 * queue (its waiter would go on as if its predecessor had died, with a stale view of the queue).
 * Lines are cut as bytes and decoded whole, so a character split across chunks arrives intact.
 */
function readLine(
  socket: Socket,
  done: (line: string | undefined) => void,
  maxLength = MAX_LINE,
): void {
  let bytes = unread.get(socket) ?? Buffer.alloc(0);
  unread.delete(socket);
  let finished = false;
  const finish = (line: string | undefined): void => {
    if (finished) return;
    finished = true;
    socket.off('data', onData);
    socket.off('close', onClose);
    done(line);
  };
  /** Finishes when `bytes` hold a line (or too much for one); false to go on reading. */
  const take = (): boolean => {
    const end = bytes.indexOf(0x0a);
    if (end >= 0) {
      if (end + 1 < bytes.length) unread.set(socket, bytes.subarray(end + 1));
      finish(bytes.toString('utf8', 0, end));
    } else if (bytes.length > maxLength) {
      finish(undefined);
    }
    return finished;
  };
  const onData = (chunk: Buffer): void => {
    bytes = bytes.length === 0 ? chunk : Buffer.concat([bytes, chunk]);
    take();
  };
  const onClose = (): void => {
    finish(undefined);
  };
  if (take()) return;
  if (socket.destroyed) {
    finish(undefined);
    return;
  }
  socket.on('data', onData);
  socket.once('close', onClose);
}

/** Resolves when `socket` closes, or after `ms`. */
function untilClosed(socket: Socket, ms: number): Promise<void> {
  return new Promise((resolve) => {
    if (socket.destroyed) {
      resolve();
      return;
    }
    const timer = setTimeout(resolve, ms);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.resume();
  });
}

function tryListen(name: string): Promise<Server | undefined> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') resolve(undefined);
      else reject(err);
    });
    server.listen(name, () => {
      resolve(server);
    });
  });
}

// Resolves when the holder lets go (its socket closes), when connecting fails (it just let go), or
// after `ms`.
async function waitForRelease(name: string, ms: number): Promise<void> {
  const holder = await connectTo(name);
  if (holder === undefined) return;
  await untilClosed(holder, ms);
  holder.destroy();
}
