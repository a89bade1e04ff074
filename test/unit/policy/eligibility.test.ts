import { describe, expect, it } from 'vitest';
import type { ContainerState } from '../../../src/domain';
import { whyNotActionable, type Ineligibility } from '../../../src/policy';
import { NOW, ct, memory } from './fixtures';

const scope = { vmidMin: 1400, vmidMax: 1499, tag: 'autopilot' };
const base = { tags: ['autopilot'] };
const mem = memory({
  inFlight: [{ kind: 'drop', vmid: 1403, node: 'a', mode: 'stop', reason: 'r' }],
  cooldownUntil: { '1404': NOW + 1, '1405': NOW },
});

describe('actionable containers', () => {
  it.each<[string, ContainerState, Ineligibility | null]>([
    ['a managed, idle container', ct(1400, 'a', 512, base), null],
    ['a template', ct(1400, 'a', 512, { ...base, template: true }), 'template'],
    ['a vmid outside the range', ct(1500, 'a', 512, base), 'unmanaged'],
    ['a container without the tag', ct(1400, 'a', 512), 'unmanaged'],
    ['a locked container', ct(1400, 'a', 512, { ...base, lock: 'backup' }), 'locked'],
    ['a container with an action in flight', ct(1403, 'a', 512, base), 'in-flight'],
    ['a container cooling down', ct(1404, 'a', 512, base), 'cooling-down'],
    ['a container whose cooldown ends now', ct(1405, 'a', 512, base), null],
    ['a container on an offline node', ct(1400, 'gone', 512, base), 'node-unavailable'],
  ])('%s → %s', (_label, container, expected) => {
    expect(whyNotActionable(container, scope, mem, ['a'])).toBe(expected);
  });
});
