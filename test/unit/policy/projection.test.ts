import { describe, expect, it } from 'vitest';
import type { Action } from '../../../src/domain';
import { nodeLoads, projectInFlight } from '../../../src/policy';
import { MiB, ct, node, snapshot } from './fixtures';

const scope = { vmidMin: 1400, vmidMax: 1499 };
const cluster = snapshot(
  [node('a'), node('b')],
  [ct(1400, 'a', 512), ct(1401, 'a', 256), ct(1402, 'b', 768)],
);

function project(inFlight: Action[], basis: 'allocated' | 'used' = 'allocated') {
  const loads = projectInFlight(nodeLoads(cluster, scope, basis), cluster, scope, basis, inFlight);
  return Object.fromEntries(loads.map((l) => [l.node, l.managedBytes / MiB]));
}

describe('loads with operations in flight', () => {
  it('counts a migration under way on its target, not its source', () => {
    expect(project([{ kind: 'migrate', vmid: 1400, from: 'a', to: 'b', reason: '' }])).toEqual({
      a: 256,
      b: 1280,
    });
  });

  it('does not count a migration twice once the container shows on its target', () => {
    expect(project([{ kind: 'migrate', vmid: 1402, from: 'a', to: 'b', reason: '' }])).toEqual({
      a: 768,
      b: 768,
    });
  });

  it('frees the allocation of a container being destroyed', () => {
    expect(project([{ kind: 'drop', vmid: 1401, node: 'a', mode: 'destroy', reason: '' }])).toEqual({
      a: 512,
      b: 768,
    });
  });

  it('keeps the allocation of a container being stopped, but not its use', () => {
    const stop: Action = { kind: 'drop', vmid: 1401, node: 'a', mode: 'stop', reason: '' };
    expect(project([stop])).toEqual({ a: 768, b: 768 });
    expect(project([stop], 'used')).toEqual({ a: 256, b: 384 });
  });

  it('counts a container being provisioned on its node', () => {
    expect(project([{ kind: 'provision', node: 'b', memoryMiB: 256, reason: '' }])).toEqual({
      a: 768,
      b: 1024,
    });
  });
});
