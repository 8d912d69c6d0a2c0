// What one calicoctl run reads and writes. Injected so that the etcd tests run the real command
// tree in-process against a real etcd, and the bundle wires it to the process.

/** The streams and environment of one run. */
export interface CliIo {
  /** Writes to stdout (results: tables, manifests, reports). */
  out(text: string): void;
  /** Writes to stderr (progress and errors). */
  err(text: string): void;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The whole of stdin, for `-f -`. */
  readStdin(): Promise<string>;
}

/** A failure the user must act on: printed as `error: <message>`, exit status 1. */
export class CliError extends Error {
  override name = 'CliError';
}
