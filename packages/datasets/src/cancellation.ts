// Preparing a dataset can take minutes; a cancelled job must stop it between steps.
import { ErrorCode, GraftError } from '@graft/spec';

export function cancelledError(): GraftError {
  return new GraftError(ErrorCode.cancelled, 'the job was cancelled while its dataset was being prepared');
}

export function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw cancelledError();
}
