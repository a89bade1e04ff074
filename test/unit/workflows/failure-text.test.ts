// failureText gives the line a saga's outcome and the manager's notes quote: never an empty cause,
// which once produced "needs attention: ; compensation failed: …" after a cancellation.
import { describe, expect, it } from 'vitest';
import { ActivityFailure, ApplicationFailure, CancelledFailure, RetryState } from '@temporalio/common';
import { failureText } from '../../../workflows/sagas/saga';

describe('failureText', () => {
  it('quotes the innermost cause that says something', () => {
    const inner = ApplicationFailure.create({ type: 'PveTaskFailed', message: 'migration aborted' });
    const outer = new ActivityFailure(
      'Activity task failed',
      'requestMigration',
      '1',
      RetryState.NON_RETRYABLE_FAILURE,
      undefined,
      inner,
    );
    expect(failureText(outer)).toBe('migration aborted');
  });

  it('skips causes with an empty message', () => {
    const inner = ApplicationFailure.create({ type: 'PveServer', message: '' });
    const outer = new ActivityFailure(
      'Activity task failed',
      'readContainer',
      '2',
      RetryState.MAXIMUM_ATTEMPTS_REACHED,
      undefined,
      inner,
    );
    expect(failureText(outer)).toBe('Activity task failed');
  });

  it('names a cancellation that carries no message', () => {
    expect(failureText(new CancelledFailure(''))).toBe('cancelled');
  });

  it('is never empty', () => {
    expect(failureText(new Error(''))).not.toBe('');
    expect(failureText('')).not.toBe('');
  });
});
