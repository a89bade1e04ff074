import { describe, expect, it } from 'vitest';
import { loadPercent, nodeLoads, nodesPassing, nodesUnder, type NodeLoad } from '../../../src/policy';
import { GiB, MiB, ct, node, snapshot } from './fixtures';

const scope = { vmidMin: 1400, vmidMax: 1499 };

describe('managed memory per node', () => {
  const cluster = snapshot(
    [node('srv-px2', 8), node('srv-px1', 16), node('down', 16, { status: 'offline' })],
    [
      ct(1400, 'srv-px1', 512, { mem: 100 * MiB }),
      ct(1401, 'srv-px1', 768, { status: 'stopped', mem: 0 }),
      ct(1402, 'srv-px2', 256, { mem: 200 * MiB }),
      ct(1399, 'srv-px1', 4096),
      ct(1500, 'srv-px2', 4096),
      ct(1403, 'srv-px2', 2048, { template: true }),
      ct(1404, 'down', 512),
    ],
  );

  it('sums the configured limits of managed containers, stopped ones included, on the allocated basis', () => {
    const loads = nodeLoads(cluster, scope, 'allocated');
    expect(loads.map((l) => [l.node, l.managedBytes])).toEqual([
      ['srv-px1', 1280 * MiB],
      ['srv-px2', 256 * MiB],
    ]);
  });

  it('sums what managed containers really use on the used basis', () => {
    const loads = nodeLoads(cluster, scope, 'used');
    expect(loads.map((l) => [l.node, l.managedBytes])).toEqual([
      ['srv-px1', 100 * MiB],
      ['srv-px2', 200 * MiB],
    ]);
  });

  it('leaves out offline nodes and nodes without known memory, and lists the rest by name', () => {
    const withZero = snapshot([...cluster.nodes, node('blank', 0)], cluster.containers);
    expect(nodeLoads(withZero, scope, 'allocated').map((l) => l.node)).toEqual(['srv-px1', 'srv-px2']);
  });

  it('narrows to the pool and tag of the managed scope', () => {
    const tagged = snapshot(
      [node('n1', 16)],
      [ct(1400, 'n1', 512, { tags: ['autopilot'], pool: 'lab' }), ct(1401, 'n1', 512, { pool: 'lab' })],
    );
    const loads = nodeLoads(tagged, { ...scope, pool: 'lab', tag: 'autopilot' }, 'allocated');
    expect(loads[0]?.managedBytes).toBe(512 * MiB);
  });

  it('expresses the load in percent of the node total', () => {
    expect(loadPercent({ managedBytes: 1.28 * GiB, maxmem: 16 * GiB })).toBeCloseTo(8, 9);
  });
});

describe('limits', () => {
  const at = (percent: number): NodeLoad => ({
    node: `n${percent}`,
    managedBytes: (percent / 100) * 100 * GiB,
    maxmem: 100 * GiB,
    usedBytes: 0,
  });

  it.each([
    [7.9, true, false],
    [8, false, false],
    [8.1, false, true],
  ])('a node at %d % against an 8 %% limit: under %s, passing %s', (percent, under, passing) => {
    const load = at(percent);
    expect(nodesUnder([load], 8)).toEqual(under ? [load] : []);
    expect(nodesPassing([load], 8)).toEqual(passing ? [load] : []);
  });
});
