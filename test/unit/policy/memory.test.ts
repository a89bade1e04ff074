import { describe, expect, it } from 'vitest';
import type { Action } from '../../../src/domain';
import {
  emptyMemory,
  isCoolingDown,
  isInFlight,
  withActionFinished,
  withActionsStarted,
  withoutExpiredCooldowns,
} from '../../../src/policy';
import { NOW } from './fixtures';

const migrate: Action = { kind: 'migrate', vmid: 1403, from: 'a', to: 'b', reason: 'r' };
const drop: Action = { kind: 'drop', vmid: 1400, node: 'a', mode: 'destroy', reason: 'r' };

describe('decision memory', () => {
  it('remembers started actions as in flight until they finish', () => {
    const started = withActionsStarted(emptyMemory(NOW, 1), [migrate, drop]);
    expect(isInFlight(started, 1403)).toBe(true);
    const finished = withActionFinished(started, migrate, NOW + 5000, 60_000);
    expect(isInFlight(finished, 1403)).toBe(false);
    expect(isInFlight(finished, 1400)).toBe(true);
  });

  it('cools a container down for the given time after its action finished', () => {
    const finished = withActionFinished(
      withActionsStarted(emptyMemory(NOW, 1), [migrate]),
      migrate,
      NOW,
      60_000,
    );
    expect(isCoolingDown({ ...finished, now: NOW + 59_999 }, 1403)).toBe(true);
    expect(isCoolingDown({ ...finished, now: NOW + 60_000 }, 1403)).toBe(false);
  });

  it('forgets ended cooldowns so the carried state stays small', () => {
    const memory = { ...emptyMemory(NOW, 1), cooldownUntil: { '1400': NOW - 1, '1401': NOW + 1 } };
    expect(withoutExpiredCooldowns(memory).cooldownUntil).toEqual({ '1401': NOW + 1 });
  });

  it('survives a JSON round trip unchanged', () => {
    const memory = withActionFinished(
      withActionsStarted(emptyMemory(NOW, 7), [migrate, drop]),
      drop,
      NOW,
      1000,
    );
    expect(JSON.parse(JSON.stringify(memory))).toEqual(memory);
  });
});
