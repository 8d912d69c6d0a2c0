import { appendFileSync, mkdirSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { ErrorCode } from '../cni/errors';
import { FieldReader, type JsonObject } from '../cni/json-fields';

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

const read = new FieldReader(ErrorCode.invalidNetworkConfig, 'invalid network config: ');

/**
 * The logger the netconf asks for: `log_level` (debug, info, warning, error; case-insensitive;
 * upstream turns `warning` into info, we honour it) and `log_file_path`. A log file that cannot be
 * written is reported once on stderr and then skipped: logging must never fail a pod.
 */
export function loggerFromNetConf(netConf: JsonObject, options: { tag: string }): Logger {
  const levelText = (read.optionalString(netConf.log_level, 'log_level') ?? 'info').toLowerCase();
  const level = (LOG_LEVELS as readonly string[]).includes(levelText)
    ? (levelText as LogLevel)
    : 'info';
  const file = read.optionalString(netConf.log_file_path, 'log_file_path');
  return createLogger({
    level,
    tag: options.tag,
    ...(file === undefined || file === '' ? {} : { file }),
  });
}

/** A logger writing lines like `2026-11-21 03:49:07.123 [INFO][4242] calico: …`. */
export function createLogger(options: { level: LogLevel; tag: string; file?: string }): Logger {
  const threshold = LOG_LEVELS.indexOf(options.level);
  let file = options.file;
  let fileReady = false;
  const write = (level: LogLevel, message: string): void => {
    if (LOG_LEVELS.indexOf(level) < threshold) return;
    const stamp = new Date().toISOString().replace('T', ' ').replace('Z', '');
    const line = `${stamp} [${level.toUpperCase()}][${process.pid}] ${options.tag}: ${message}\n`;
    try {
      writeSync(2, line);
    } catch {
      // stderr closed: nothing to do.
    }
    if (file === undefined) return;
    try {
      if (!fileReady) mkdirSync(dirname(file), { recursive: true });
      fileReady = true;
      appendFileSync(file, line);
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
