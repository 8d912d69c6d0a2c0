import { CniError, ErrorCode } from './errors';
import { validateContainerId, validateIfName } from './validate';

/** The verbs of spec 1.1.0; commands are case-sensitive. */
export const COMMANDS = ['ADD', 'DEL', 'CHECK', 'GC', 'STATUS', 'VERSION'] as const;
export type CniCommand = (typeof COMMANDS)[number];

/** Everything a runtime passes in CNI_* variables, with empty values already treated as absent. */
export interface CniEnv {
  command: CniCommand;
  containerId: string;
  netns: string;
  ifName: string;
  args: string;
  path: string[];
}

type VarName = 'CNI_CONTAINERID' | 'CNI_NETNS' | 'CNI_IFNAME' | 'CNI_ARGS' | 'CNI_PATH';

// Listed in pkg/skel's order so the code-4 message reads like the reference one. DEL does not need
// CNI_NETNS (spec 1.0); GC needs only CNI_PATH; STATUS and VERSION need nothing but the command.
const REQUIRED: Record<CniCommand, readonly VarName[]> = {
  ADD: ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME', 'CNI_PATH'],
  CHECK: ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME', 'CNI_PATH'],
  DEL: ['CNI_CONTAINERID', 'CNI_IFNAME', 'CNI_PATH'],
  GC: ['CNI_PATH'],
  STATUS: [],
  VERSION: [],
};

/** True for a known command name. */
export function isCommand(value: string): value is CniCommand {
  return (COMMANDS as readonly string[]).includes(value);
}

/**
 * Reads and validates the CNI_* variables for `command`: every missing one in a single code-4
 * error, then the container ID and interface name for the verbs that carry them.
 */
export function readCniEnv(
  command: CniCommand,
  env: Readonly<Record<string, string | undefined>>,
): CniEnv {
  const get = (name: VarName): string => env[name] ?? '';
  const missing = REQUIRED[command].filter((name) => get(name) === '');
  if (missing.length > 0) {
    throw new CniError(
      ErrorCode.invalidEnvironment,
      `required env variables [${missing.join(',')}] missing`,
    );
  }
  const withContainer = command === 'ADD' || command === 'DEL' || command === 'CHECK';
  if (withContainer) {
    validateContainerId(get('CNI_CONTAINERID'));
    validateIfName(get('CNI_IFNAME'));
  }
  return {
    command,
    containerId: withContainer ? get('CNI_CONTAINERID') : '',
    netns: withContainer ? get('CNI_NETNS') : '',
    ifName: withContainer ? get('CNI_IFNAME') : '',
    args: get('CNI_ARGS'),
    path: get('CNI_PATH')
      .split(':')
      .filter((dir) => dir !== ''),
  };
}
