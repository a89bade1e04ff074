// A refused saga completes with a `refused` result; its parents (manager, generator, node drain)
// must read it exactly as the Refused child failure that runs from before end with.
import { describe, expect, it } from 'vitest';
import { ApplicationFailure, ChildWorkflowFailure, RetryState } from '@temporalio/common';
import type { OperationResult } from '../../../src/domain';
import { failIfRefused, sagaFailureText } from '../../../workflows/saga-children';

const refused: OperationResult = {
  operation: 'migrate',
  outcome: 'refused',
  vmid: 1401,
  node: '',
  steps: ['preflight', 'refused'],
  detail: 'CT 1401 is locked (backup)',
};

/** What a parent caught when the saga failed with Refused (the code before refusals completed). */
const oldRefusal = new ChildWorkflowFailure(
  'default',
  { workflowId: 'ct-pve-1401', runId: 'r1' },
  'migrateContainerWorkflow',
  RetryState.NON_RETRYABLE_FAILURE,
  ApplicationFailure.create({
    type: 'Refused',
    message: 'migrate of CT 1401 refused: CT 1401 is locked (backup)',
    nonRetryable: true,
    details: [refused],
  }),
);

function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

describe('failIfRefused', () => {
  it('turns a refused result into the failure text parents recorded for a Refused saga', () => {
    const err = caught(() => failIfRefused(refused));
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(sagaFailureText(err)).toBe(sagaFailureText(oldRefusal));
    expect(sagaFailureText(err)).toBe('Refused: migrate of CT 1401 refused: CT 1401 is locked (backup)');
    expect((err as ApplicationFailure).details).toEqual([refused]);
  });

  it('names a provision refused before it had a vmid with ?', () => {
    const err = caught(() => failIfRefused({ ...refused, operation: 'provision', vmid: 0, detail: 'x' }));
    expect(sagaFailureText(err)).toBe('Refused: provision of CT ? refused: x');
  });

  it('passes every other result through unchanged', () => {
    const ok: OperationResult = { ...refused, outcome: 'succeeded', node: 'srv-px2', detail: 'moved' };
    expect(failIfRefused(ok)).toBe(ok);
  });
});
