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
  /** Our binaries: open findings (OPEN_FINDINGS), tolerated but reported, never passed. */
  readonly findings?: readonly Deviation[];
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

/** ptp ignores prevResult: it is an interface-creating plugin, always first in a chain. */
const PTP_NO_PREV_RESULT = (id: string): Deviation => ({
  id,
  reasonHas: 'dropped (silently)',
  why:
    'ptp never reads prevResult (it is built to be the first plugin of a chain) and prints its ' +
    'own result; Calico merges it (contract §8, checklist 58–60)',
});

/** Expected deviations of the reference plugins v1.1.1 (libcni 1.1.x skel). */
export const REFERENCE_DEVIATIONS: Readonly<Record<'ptp' | 'host-local', readonly Deviation[]>> = {
  ptp: [
    GO_SKEL_ERRORS,
    {
      id: 'D51',
      reasonHas: 'ADD',
      why:
        'the v1.1.x skel has no own-netns check (contract §10.7 step 9): ptp builds eth0 in its ' +
        'own netns; Calico refuses with code 8 before touching anything',
    },
    PTP_NO_PREV_RESULT('E58'),
    PTP_NO_PREV_RESULT('E59'),
    PTP_NO_PREV_RESULT('E60'),
    {
      id: 'F67',
      reasonHas: 'unknown FS magic',
      why: 'ptp DEL fails with 999 on a netns path that is not a netns (contract §13.2, item 67 REC)',
    },
    {
      id: 'F69',
      reasonHas: 'still in the pod after DEL',
      why:
        'ptp runs IPAM DEL first and returns its error at once, leaving the interface; Calico ' +
        'removes its interface first (checklist 69, Calico Go order)',
    },
  ],
  'host-local': [GO_SKEL_ERRORS],
};

/**
 * Items our own bundles fail today, each a known bug to fix (none at present: H80 was fixed by
 * ifname-aware handles). Judged like a deviation (a new problem or a pass is a violation, so the entry must go when
 * the plugin is fixed), but never counted as passed.
 */
export const OPEN_FINDINGS: Readonly<Record<'calico' | 'calico-ipam', readonly Deviation[]>> = {
  calico: [],
  'calico-ipam': [],
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
