import {
  closeSync,
  constants,
  fchmodSync,
  fstatSync,
  mkdirSync,
  openSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { ErrorCode } from '../cni/errors';
import { FieldReader, type JsonObject } from '../cni/json-fields';
import { rotateLogFiles } from './log-rotation';

// The plugins' log: stderr always, plus `log_file_path` when set. It is on every pod start's hot
// path, so it loads nothing beyond node:fs and opens the file only on the first line.
//
// The file holds container IDs, addresses and errors: it is created 0600 in a directory created
// 0700. An existing file that we own is tightened to 0600 (logs written by an older version may be
// world-readable); an existing directory is left alone, it may be shared (/var/log/calico). The
// file is opened with O_NOFOLLOW: a root plugin must not append to wherever a planted symlink
// points. Lines pass through redact(), so PEM blocks (keys, certificates) never reach the file.

/** Log levels, lowest first. */
export const LOG_LEVELS = ['debug', 'info', 'warning', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Where log lines go: always stderr (never stdout, which carries the result), plus a file. */
export interface Logger {
  debug: (message: string) => void;
  info: (message: string) => void;
  warning: (message: string) => void;
  error: (message: string) => void;
}

/** Size-capped rotation of the log file (Calico's keys and defaults, calico-behaviour.md §1.1). */
export interface LogRotation {
  /** Rotate once the file reaches this many bytes (`log_file_max_size` MB, default 100 MB). */
  maxBytes: number;
  /** Rotated files kept, `<file>.1` newest (`log_file_max_count`, default 10). */
  maxFiles: number;
  /** Rotated files older than this are deleted at rotation (`log_file_max_age` days, default 30). */
  maxAgeMs: number;
}

/** Calico's defaults: 100 MB, 10 files, 30 days. */
export const DEFAULT_LOG_ROTATION: LogRotation = {
  maxBytes: 100 * 1024 * 1024,
  maxFiles: 10,
  maxAgeMs: 30 * 24 * 3600_000,
};

const read = new FieldReader(ErrorCode.invalidNetworkConfig, 'invalid network config: ');
const MB = 1024 * 1024;
const DAY_MS = 24 * 3600_000;

/**
 * The logger the netconf asks for: `log_level` (debug, info, warning, error; case-insensitive;
 * upstream turns `warning` into info, we honour it), `log_file_path` and the rotation keys. A log
 * file that cannot be written is reported once on stderr and then skipped: logging must never
 * fail a pod.
 */
export function loggerFromNetConf(netConf: JsonObject, options: { tag: string }): Logger {
  const levelText = (read.optionalString(netConf.log_level, 'log_level') ?? 'info').toLowerCase();
  const level = (LOG_LEVELS as readonly string[]).includes(levelText)
    ? (levelText as LogLevel)
    : 'info';
  const file = read.optionalString(netConf.log_file_path, 'log_file_path');
  // Absent or 0: Calico's default.
  const limit = (key: string, fallback: number) =>
    read.optionalCount(netConf[key], key) || fallback;
  return createLogger({
    level,
    tag: options.tag,
    ...(file === undefined || file === '' ? {} : { file }),
    rotation: {
      maxBytes: limit('log_file_max_size', DEFAULT_LOG_ROTATION.maxBytes / MB) * MB,
      maxFiles: limit('log_file_max_count', DEFAULT_LOG_ROTATION.maxFiles),
      maxAgeMs: limit('log_file_max_age', DEFAULT_LOG_ROTATION.maxAgeMs / DAY_MS) * DAY_MS,
    },
  });
}

// A PEM block (private key, certificate, CSR): whatever text carries one, only its label is kept.
const PEM = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?(?:-----END [A-Z0-9 ]+-----|$)/g;

/** The message with every PEM block replaced by `[redacted <label>]`. */
export function redact(message: string): string {
  return message.includes('-----BEGIN ') ? message.replace(PEM, '[redacted $1]') : message;
}

/** A logger writing lines like `2026-11-21 03:49:07.123 [INFO][4242] calico: …`. */
export function createLogger(options: {
  level: LogLevel;
  tag: string;
  file?: string;
  rotation?: LogRotation;
}): Logger {
  const threshold = LOG_LEVELS.indexOf(options.level);
  const rotation = options.rotation ?? DEFAULT_LOG_ROTATION;
  let file = options.file;
  let sink: { fd: number; size: number } | undefined;
  const write = (level: LogLevel, message: string): void => {
    if (LOG_LEVELS.indexOf(level) < threshold) return;
    const stamp = new Date().toISOString().replace('T', ' ').replace('Z', '');
    const line = `${stamp} [${level.toUpperCase()}][${process.pid}] ${options.tag}: ${redact(message)}\n`;
    try {
      writeSync(2, line);
    } catch {
      // stderr closed: nothing to do.
    }
    if (file === undefined) return;
    try {
      if (sink !== undefined && sink.size >= rotation.maxBytes) {
        closeSync(sink.fd);
        sink = undefined;
        rotateLogFiles(file, rotation);
      }
      sink ??= openLogFile(file, rotation);
      sink.size += writeSync(sink.fd, line);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      file = undefined;
      write('warning', `cannot write log_file_path, logging to stderr only: ${reason}`);
    }
  };
  return {
    debug: (m) => {
      write('debug', m);
    },
    info: (m) => {
      write('info', m);
    },
    warning: (m) => {
      write('warning', m);
    },
    error: (m) => {
      write('error', m);
    },
  };
}

// Opens (creating 0600, in a directory created 0700) for appending; rotates first when the file
// is already full. Many plugin processes append to one file: O_APPEND keeps their lines whole.
function openLogFile(file: string, rotation: LogRotation): { fd: number; size: number } {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const flags = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW;
  let fd = openSync(file, flags, 0o600);
  try {
    let stat = fstatSync(fd);
    if (!stat.isFile()) throw new Error(`${file} is not a regular file`);
    if (stat.size >= rotation.maxBytes) {
      closeSync(fd);
      fd = -1;
      rotateLogFiles(file, rotation);
      fd = openSync(file, flags, 0o600);
      stat = fstatSync(fd);
    }
    tighten(fd, stat);
    return { fd, size: stat.size };
  } catch (err) {
    if (fd >= 0) closeSync(fd);
    throw err;
  }
}

// An existing file of ours with group or other bits (an older version's, or a umask's) → 0600.
function tighten(fd: number, stat: { uid: number; mode: number }): void {
  if ((stat.mode & 0o077) !== 0 && stat.uid === process.getuid?.()) fchmodSync(fd, 0o600);
}
