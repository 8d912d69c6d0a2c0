import { describe, expect, it } from 'vitest';
import { CniError, ErrorCode } from '../cni/errors';
import {
  alreadyExists,
  conflict,
  datastoreErrorToCni,
  DatastoreError,
  isDatastoreError,
  notFound,
  unavailable,
} from './errors';

describe('datastore errors', () => {
  it('maps Unavailable to "try again later" (11) with the endpoints in the message', () => {
    const err = datastoreErrorToCni(
      unavailable(['http://127.0.0.1:2379'], 'connect ECONNREFUSED 127.0.0.1:2379'),
    );
    expect(err).toBeInstanceOf(CniError);
    expect(err.code).toBe(ErrorCode.tryAgainLater);
    expect(err.message).toBe(
      'etcd unreachable at http://127.0.0.1:2379: connect ECONNREFUSED 127.0.0.1:2379',
    );
  });

  it('maps the answers callers should have handled to 999 with a clear message', () => {
    const cases: [DatastoreError, string][] = [
      [notFound('/k'), 'resource does not exist: /k'],
      [alreadyExists('/k'), 'resource already exists: /k'],
      [
        conflict('/k', { expected: 5, actual: 7 }),
        'update conflict: /k is at revision 7, expected 5',
      ],
      [
        new DatastoreError('Failed', 'etcd rejected /v3/kv/txn: boom'),
        'etcd rejected /v3/kv/txn: boom',
      ],
    ];
    for (const [error, message] of cases) {
      const cni = datastoreErrorToCni(error);
      expect(cni.code).toBe(ErrorCode.internal);
      expect(cni.message).toBe(message);
    }
  });

  it('passes CniErrors through and wraps anything else as 999', () => {
    const original = new CniError(7, 'bad');
    expect(datastoreErrorToCni(original)).toBe(original);
    expect(datastoreErrorToCni(new Error('x'))).toMatchObject({ code: 999, message: 'x' });
    expect(datastoreErrorToCni('y')).toMatchObject({ code: 999, message: 'y' });
  });

  it('recognises kinds', () => {
    expect(isDatastoreError(notFound('/k'), 'NotFound')).toBe(true);
    expect(isDatastoreError(notFound('/k'), 'Conflict')).toBe(false);
    expect(isDatastoreError(notFound('/k'))).toBe(true);
    expect(isDatastoreError(new Error('x'))).toBe(false);
    expect(notFound('/k').key).toBe('/k');
  });
});
