/** Milliseconds per step of one ADD, for the log line: where a slow pod start spent its time. */
export class Phases {
  private readonly parts: string[] = [];
  private last: number;

  constructor(started: number) {
    this.last = started;
  }

  /** Ends the step called `name` now. */
  mark(name: string): void {
    const now = Date.now();
    this.parts.push(`${name}=${now - this.last}`);
    this.last = now;
  }

  /** `ipam=12 network+endpoint=20`. */
  summary(): string {
    return this.parts.join(' ');
  }
}
