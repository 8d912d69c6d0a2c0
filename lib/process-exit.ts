// How a plugin process ends once it has answered. Node's natural exit first tears down V8's heap
// page by page, ~2-5 ms of every call on a small VM (60 alternating ADDs: 157.8 -> 154.8 ms of
// CPU, DEL 129.0 -> 125.2 ms), so a plugin ends its process at once instead, unless some work
// must outlive the answer: a host-lock hand-over (the releasing process keeps the lock's name
// until its successor holds it) or output queued in a stream. Such work holds the exit, and the
// natural exit then waits for it as it always did.

let holds = 0;

/** Marks work that must go on after the answer; call the returned function once it is done. */
export function holdExit(): () => void {
  holds += 1;
  let released = false;
  return () => {
    if (released) return;
    released = true;
    holds -= 1;
  };
}

/** Whether some work holds the exit (for tests). */
export function exitHeld(): boolean {
  return holds > 0;
}

/** Ends the process with `code` now, or when the work holding the exit is done. */
export function exitWith(
  code: number,
  exit: (code: number) => void = (c) => process.exit(c),
): void {
  if (holds > 0) {
    process.exitCode = code;
    return;
  }
  exit(code);
}
