import { CniError, ErrorCode } from '../lib/cni/errors';

/** The stable answer of a verb whose implementation has not landed yet (code 101). */
export function notImplemented(binary: string, verb: string): Promise<never> {
  return Promise.reject(
    new CniError(ErrorCode.notImplemented, `${binary}: ${verb} is not implemented yet`),
  );
}
