import type { PluginKind } from './netconf';
import { PROBLEM_SEPARATOR, type ItemResult } from './outcome';

/** A known, explained failure of a reference plugin. */
export interface Deviation {
  readonly id: string;
  /** Every problem in the fail reason must contain this, so a new problem is not masked. */
  readonly reasonHas: string;
  readonly why: string;
}

/** One binary run-all drives, and what is allowed to fail for it. */
export interface Target {
  readonly label: string;
  readonly plugin: string;
  readonly kind: PluginKind;
  /** Our binaries: empty (zero failures required). Reference plugins: their known deviations. */
  readonly deviations: readonly Deviation[];
  /** Keep IPAM state in a private etcd (Calico IPAM) instead of a host-local dataDir. */
  readonly etcd?: boolean;
}

const GO_SKEL_ERRORS: Deviation = {
  id: 'J92',
  reasonHas: 'error object lacks cniVersion',
  why:
    'the Go skel prints {code,msg,details} without cniVersion (contract §6, §14.8); libcni ' +
    'ignores it, the checklist asks for it',
};

/** Expected deviations of the reference plugins v1.1.1 (libcni 1.1.x skel). */
export const REFERENCE_DEVIATIONS: Readonly<Record<'ptp' | 'host-local', readonly Deviation[]>> = {
  ptp: [GO_SKEL_ERRORS],
  'host-local': [GO_SKEL_ERRORS],
};

/** Where a report breaks its requirements, plus notes that break nothing. */
export interface Judgement {
  readonly violations: readonly string[];
  readonly notes: readonly string[];
  /** Failures that are exactly their tabled deviation: the harness saw what it should. */
  readonly expected: number;
}

/**
 * Compare a report with its deviation table: a failure outside the table, a failure with a
 * problem the table does not explain, or a listed deviation that passed are all violations.
 */
export function judgeReport(
  items: readonly ItemResult[],
  deviations: readonly Deviation[],
): Judgement {
  const violations: string[] = [];
  const notes: string[] = [];
  let expected = 0;
  for (const item of items) {
    const dev = deviations.find((d) => d.id === item.id);
    const { outcome } = item;
    if (outcome.status === 'fail') {
      if (dev === undefined) {
        violations.push(`${item.id} failed unexpectedly`);
        continue;
      }
      const odd = outcome.reason.split(PROBLEM_SEPARATOR).filter((p) => !p.includes(dev.reasonHas));
      if (odd.length > 0) {
        violations.push(
          `${item.id} failed beyond its expected deviation: ${odd.join(PROBLEM_SEPARATOR)}`,
        );
      } else {
        expected++;
      }
    } else if (dev !== undefined && outcome.status === 'pass') {
      violations.push(`${item.id} was expected to fail (${dev.why}) but passed: update the table`);
    } else if (dev !== undefined && outcome.status === 'n/a') {
      notes.push(`${item.id} expected deviation not exercised: ${outcome.reason}`);
    }
  }
  for (const dev of deviations) {
    if (!items.some((i) => i.id === dev.id)) violations.push(`table names unknown item ${dev.id}`);
  }
  return { violations, notes, expected };
}
