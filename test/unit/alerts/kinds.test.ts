// What each alert kind reads from one observation: only the subjects at or above the resolve value.
import { describe, expect, it } from 'vitest';
import { readingsOf, type AlertFacts } from '../../../src/alerts/kinds';
import { parseConfig, spreadReportsOf } from '../../../src/config';
import { ruleSchema } from '../../../src/alerts/schema';
import type { ClusterSnapshot, ContainerState, NodeState } from '../../../src/domain';

const GiB = 1024 ** 3;
const node = (name: string, memGiB: number, status: NodeState['status'] = 'online'): NodeState => ({
  name,
  status,
  cpu: 0.5,
  maxcpu: 16,
  mem: memGiB * GiB,
  maxmem: 32 * GiB,
  disk: 10 * GiB,
  maxdisk: 100 * GiB,
});
const ct = (vmid: number, nodeName: string, memMiB: number, pool?: string): ContainerState => ({
  vmid,
  name: `CT${vmid}`,
  node: nodeName,
  status: 'running',
  cpu: 0.1,
  maxcpu: 1,
  mem: memMiB * 1024 * 1024,
  maxmem: 512 * 1024 * 1024,
  disk: 0,
  maxdisk: 0,
  uptime: 100,
  tags: [],
  template: false,
  ...(pool === undefined ? {} : { pool }),
});
const snapshot: ClusterSnapshot = {
  takenAt: 0,
  nodes: [node('a', 30), node('b', 10), node('c', 31, 'offline')],
  containers: [ct(1400, 'a', 500, 'web'), ct(1401, 'a', 100, 'web'), ct(1402, 'b', 100, 'db')],
};
const facts = (over: Partial<AlertFacts> = {}): AlertFacts => ({
  now: 600_000,
  snapshot,
  managerObservedAt: null,
  alertsSince: 0,
  attention: [],
  spread: [],
  ...over,
});
const rule = (r: Record<string, unknown>) => ruleSchema.parse({ name: 'r', ...r });

describe('alert kinds', () => {
  it('node-memory reads online nodes only, and only those at or above resolveBelow', () => {
    expect(readingsOf(rule({ kind: 'node-memory', above: 90 }), facts())).toEqual([
      { subject: 'a', value: 93.75, summary: 'node a memory at 93.8 %', labels: { node: 'a' } },
    ]);
  });

  it('container-memory reads a running container against its own limit', () => {
    expect(readingsOf(rule({ kind: 'container-memory', above: 95 }), facts()).map((r) => r.subject)).toEqual([
      'ct/1400',
    ]);
  });

  it('manager-stalled counts from the last observation, or from the alerts start when never seen', () => {
    const r = rule({ kind: 'manager-stalled', minutes: 5 });
    expect(readingsOf(r, facts({ managerObservedAt: 400_000 }))).toEqual([]);
    expect(readingsOf(r, facts({ managerObservedAt: 200_000 }))[0]?.value).toBeCloseTo(400_000 / 60_000);
    expect(readingsOf(r, facts())[0]?.summary).toMatch(/since alerts started 10\.0 min ago/);
  });

  it('saga-attention reports each run inside its lookback', () => {
    const r = rule({ kind: 'saga-attention', lookbackHours: 1 });
    const run = { workflowId: 'ct-pve-1400', runId: 'r1', operation: 'migrate', vmid: '1400' };
    const out = readingsOf(
      r,
      facts({
        now: 4 * 3_600_000,
        attention: [
          { ...run, closedAt: 3.5 * 3_600_000 },
          { ...run, runId: 'r0', closedAt: 1 * 3_600_000 },
        ],
      }),
    );
    expect(out.map((x) => x.subject)).toEqual(['ct-pve-1400/r1']);
  });

  it('pool-spread reads the spread plan: one reading per pool, valued by its moves', () => {
    const config = parseConfig('zones:\n  z1: [a]\n  z2: [b, c]\n', {});
    const online: ClusterSnapshot = {
      ...snapshot,
      nodes: snapshot.nodes.map((n) => ({ ...n, status: 'online' })),
    };
    const spread = spreadReportsOf(config, online);
    const out = readingsOf(rule({ kind: 'pool-spread' }), facts({ snapshot: online, spread }));
    // web: both members on a (zone z1) while z2 has room; db has one member, so no group to spread.
    expect(out.map((r) => [r.subject, r.value])).toEqual([['pool/web', 1]]);
    expect(readingsOf(rule({ kind: 'pool-spread', pool: 'db' }), facts({ spread }))).toEqual([]);
  });
});
