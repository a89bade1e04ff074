// The orchestrator's metrics without Temporal: the feed's numbers from an observation, the network
// rates, the Prometheus text checked by promtool, the merge with the SDK's text, and the shipped
// alerting rules and dashboard, which may name only families the worker serves.
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import type { ClusterSnapshot, ContainerState, NodeState } from '../../../src/domain';
import { feedOf, type FeedSettings } from '../../../src/metrics/feed';
import { decodeObservation, encodeObservation } from '../../../src/domain';
import { metricsOf, withNetworkRates } from '../../../src/policy';
import { clusterResourcesSchema, toClusterSnapshot } from '../../../src/proxmox';
import { OrchestratorMetrics } from '../../../src/metrics/orchestrator-metrics';
import { metricsText, parseMetricsAddress } from '../../../worker/metrics-server';
import { freePort, promtool } from '../../support/prometheus';
import { readmeArgs } from '../../support/readme-args';

const GiB = 1024 ** 3;

function node(name: string, extra: Partial<NodeState> = {}): NodeState {
  return {
    name,
    status: 'online',
    cpu: 0.25,
    maxcpu: 8,
    mem: 8 * GiB,
    maxmem: 32 * GiB,
    disk: GiB,
    maxdisk: 10 * GiB,
    ...extra,
  };
}

function ct(vmid: number, nodeName: string, extra: Partial<ContainerState> = {}): ContainerState {
  return {
    vmid,
    name: `CT${vmid}`,
    node: nodeName,
    status: 'running',
    cpu: 0.5,
    maxcpu: 2,
    mem: GiB,
    maxmem: 2 * GiB,
    disk: 0,
    maxdisk: 8 * GiB,
    uptime: 100,
    tags: [],
    template: false,
    ...extra,
  };
}

const settings: FeedSettings = {
  scope: { vmidMin: 1400, vmidMax: 1499 },
  capacityBasis: 'allocated',
  drainedNodes: ['px2'],
};

const snapshot: ClusterSnapshot = {
  takenAt: 1_800_000_000_000,
  nodes: [
    node('px1', { netinRate: 1200, netoutRate: 300 }),
    node('px2', { status: 'offline', cpu: 0, mem: 0 }),
  ],
  // 100 is not managed: it counts in the node's allocated memory, not in the managed share.
  containers: [ct(1400, 'px1'), ct(1401, 'px1', { maxmem: 4 * GiB, status: 'stopped' }), ct(100, 'px1')],
};

describe('the metrics feed', () => {
  it('turns an observation into node and managed-container rows', () => {
    const feed = feedOf(snapshot, settings);
    expect(feed.takenAt).toBe(snapshot.takenAt);
    const [px1, px2] = feed.nodes;
    expect(px1).toEqual({
      node: 'px1',
      zone: 'px1',
      online: true,
      drained: false,
      cpuRatio: 0.25,
      cores: 8,
      memoryUsedBytes: 8 * GiB,
      memoryTotalBytes: 32 * GiB,
      memoryAllocatedBytes: 8 * GiB,
      memoryManagedRatio: 6 / 32,
      diskUsedBytes: GiB,
      diskTotalBytes: 10 * GiB,
      networkReceiveBytesPerSecond: 1200,
      networkTransmitBytesPerSecond: 300,
    });
    expect(px2).toMatchObject({ node: 'px2', online: false, drained: true, memoryManagedRatio: 0 });
    expect(px2).not.toHaveProperty('networkReceiveBytesPerSecond');
    expect(feed.containers.map((c) => c.vmid)).toEqual([1400, 1401]);
    expect(feed.containers[1]).toEqual({
      vmid: 1401,
      node: 'px1',
      running: false,
      cpuRatio: 0.5,
      cores: 2,
      memoryUsedBytes: GiB,
      memoryLimitBytes: 4 * GiB,
    });
  });

  it('measures the managed share on the capacity basis the manager uses', () => {
    const used = feedOf(snapshot, { ...settings, capacityBasis: 'used' });
    expect(used.nodes[0]?.memoryManagedRatio).toBe(2 / 32);
  });

  it("labels a node with its configured zone, else with the node's own name", () => {
    const feed = feedOf(snapshot, { ...settings, zones: { rack1: ['px2'] } });
    expect(feed.nodes.map((n) => [n.node, n.zone])).toEqual([
      ['px1', 'px1'],
      ['px2', 'rack1'],
    ]);
  });
});

describe('network rates', () => {
  /** One /cluster/resources answer: node px1 and the containers' counters as PVE gives them. */
  const resources = (guests: Array<{ vmid: number; node: string; netin: number; netout: number }>) =>
    clusterResourcesSchema.parse([
      { id: 'node/px1', type: 'node', node: 'px1', status: 'online', maxcpu: 8, maxmem: 32 * GiB },
      { id: 'node/px2', type: 'node', node: 'px2', status: 'online', maxcpu: 8, maxmem: 32 * GiB },
      ...guests.map((g) => ({ id: `lxc/${g.vmid}`, type: 'lxc', status: 'running', maxmem: GiB, ...g })),
    ]);
  /** What the manager holds after a cycle: the activity's compact observation, decoded, with rates. */
  const observed = (at: number, guests: Parameters<typeof resources>[0], previous: ClusterSnapshot | null) =>
    withNetworkRates(
      decodeObservation(encodeObservation(toClusterSnapshot(resources(guests), at))),
      previous,
    );

  it('reach the rule and the metrics feed from two observations through the compact form', () => {
    const first = observed(0, [{ vmid: 1400, node: 'px1', netin: 1024 * 1000, netout: 0 }], null);
    expect(metricsOf(first).nodes[0]?.netInBps).toBeNull();
    const second = observed(
      10_000,
      [{ vmid: 1400, node: 'px1', netin: 1024 * 1100, netout: 1024 * 20 }],
      first,
    );
    const metrics = metricsOf(second);
    expect(metrics.containers[0]).toMatchObject({ vmid: 1400, netInBps: 10_240, netOutBps: 2_048 });
    expect(metrics.nodes.map((n) => [n.node, n.netInBps, n.netOutBps])).toEqual([
      ['px1', 10_240, 2_048],
      ['px2', 0, 0],
    ]);
    const feed = feedOf(second, { ...settings, drainedNodes: [] });
    expect(feed.nodes[0]).toMatchObject({
      networkReceiveBytesPerSecond: 10_240,
      networkTransmitBytesPerSecond: 2_048,
    });
  });

  it('leave out a container that is new, moved or whose counters went down (restarted)', () => {
    const first = observed(
      0,
      [
        { vmid: 1401, node: 'px1', netin: 10_000, netout: 10_000 },
        { vmid: 1402, node: 'px1', netin: 10_000, netout: 10_000 },
        { vmid: 1403, node: 'px2', netin: 0, netout: 0 },
      ],
      null,
    );
    const second = observed(
      1000,
      [
        { vmid: 1401, node: 'px2', netin: 20_480, netout: 20_480 }, // moved
        { vmid: 1402, node: 'px1', netin: 1024, netout: 1024 }, // restarted
        { vmid: 1403, node: 'px2', netin: 51_200, netout: 71_680 },
        { vmid: 1404, node: 'px1', netin: 5_000_000, netout: 0 }, // new: counts from its next reading
      ],
      first,
    );
    const rate = (vmid: number) => metricsOf(second).containers.find((c) => c.vmid === vmid)?.netInBps;
    expect([rate(1401), rate(1402), rate(1403), rate(1404)]).toEqual([null, null, 51_200, null]);
    expect(second.nodes.map((n) => [n.name, n.netinRate, n.netoutRate])).toEqual([
      ['px1', 0, 0],
      ['px2', 51_200, 71_680],
    ]);
  });

  it('are not carried over from the observation before', () => {
    const first = observed(0, [{ vmid: 1400, node: 'px1', netin: 0, netout: 0 }], null);
    const second = observed(1000, [{ vmid: 1400, node: 'px1', netin: 1024, netout: 1024 }], first);
    // A third reading with the counter gone down: the rate the second one got does not stay.
    const third = withNetworkRates(
      { ...second, takenAt: 2000, containers: second.containers.map((c) => ({ ...c, netin: 0, netout: 0 })) },
      second,
    );
    expect(third.containers[0]?.netinRate).toBeUndefined();
    expect(third.nodes[0]?.netinRate).toBe(0);
  });
});

/** Every family with a value, as a worker serves them after a cycle and a saga. */
function populated(): OrchestratorMetrics {
  const m = new OrchestratorMetrics();
  m.setFeed('lab', feedOf(snapshot, settings));
  m.setNeedsAttention('lab', 1);
  m.sagaEnded('lab', 'migrate', 'succeeded');
  m.sagaEnded('lab', 'scale', 'needs-attention');
  m.decisionsMade('lab', [
    { rule: 'lab', automation: 'auto' },
    { rule: 'autoscale', automation: 'recommend' },
  ]);
  m.cycleEnded('lab', 340);
  m.observed('lab', 1);
  return m;
}

/** Family names of a Prometheus text (histograms by their base name). */
function families(text: string): Set<string> {
  return new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1] as string));
}

const expectedFamilies = [
  'node_online',
  'node_drained',
  'node_cpu_usage_ratio',
  'node_cpu_cores',
  'node_memory_used_bytes',
  'node_memory_total_bytes',
  'node_memory_allocated_bytes',
  'node_memory_managed_ratio',
  'node_disk_used_bytes',
  'node_disk_total_bytes',
  'node_network_receive_bytes_per_second',
  'node_network_transmit_bytes_per_second',
  'container_running',
  'container_cpu_usage_ratio',
  'container_cpu_cores',
  'container_memory_used_bytes',
  'container_memory_limit_bytes',
  'observation_timestamp_seconds',
  'needs_attention_runs',
  'saga_outcomes_total',
  'decisions_total',
  'manager_cycle_duration_seconds',
  'manager_cycle_api_requests',
].map((f) => `pve_autopilot_${f}`);

describe('the Prometheus text', () => {
  it('has every family with live values, and promtool check metrics finds nothing to lint', async () => {
    const text = await populated().text();
    expect([...families(text)].sort()).toEqual([...expectedFamilies].sort());
    expect(text).toContain(
      `pve_autopilot_node_memory_used_bytes{cluster="lab",node="px1",zone="px1"} ${8 * GiB}`,
    );
    expect(text).toContain('pve_autopilot_node_drained{cluster="lab",node="px2",zone="px2"} 1');
    expect(text).toContain(
      'pve_autopilot_saga_outcomes_total{cluster="lab",operation="scale",outcome="needs-attention"} 1',
    );
    expect(text).toContain(
      'pve_autopilot_decisions_total{cluster="lab",rule="autoscale",automation="recommend"} 1',
    );
    expect(text).toContain('pve_autopilot_manager_cycle_duration_seconds_sum{cluster="lab"} 0.34');
    const lint = promtool(['check', 'metrics'], text);
    expect(lint.output).toBe('');
    expect(lint.status).toBe(0);
  });

  it('drops the series of a node or container that left the observation, and a cluster without one', async () => {
    const m = populated();
    m.setFeed('lab', feedOf({ ...snapshot, containers: [ct(1401, 'px1')] }, settings));
    let text = await m.text();
    expect(text).not.toContain('vmid="1400"');
    expect(text).toContain('vmid="1401"');
    m.setFeed('lab', null);
    text = await m.text();
    expect(text).not.toContain('pve_autopilot_node_memory_used_bytes{');
    expect(text).not.toContain('pve_autopilot_observation_timestamp_seconds{');
    // Counters are this worker's counts: they stay.
    expect(text).toContain(
      'pve_autopilot_saga_outcomes_total{cluster="lab",operation="migrate",outcome="succeeded"} 1',
    );
  });

  it('promtool check metrics does fail on a badly named counter (the check can fail)', () => {
    const bad = '# HELP x_requests Requests.\n# TYPE x_requests counter\nx_requests 1\n';
    const lint = promtool(['check', 'metrics'], bad);
    expect(lint.status).not.toBe(0);
    expect(lint.output).toContain('_total');
  });
});

describe('the metrics endpoint text', () => {
  let sdk: Server | undefined;
  afterEach(() => sdk?.close());

  it("is ours followed by the SDK's, read from its exporter after the gauges are refreshed", async () => {
    sdk = createServer((_req, res) => res.end('# TYPE temporal_request counter\ntemporal_request 7\n'));
    const port = await freePort();
    await new Promise<void>((resolve) => sdk?.listen(port, '127.0.0.1', resolve));
    const m = new OrchestratorMetrics();
    const text = await metricsText({
      metrics: m,
      sdkMetricsUrl: `http://127.0.0.1:${port}/metrics`,
      refresh: async () => m.setFeed('lab', feedOf(snapshot, settings)),
    });
    expect(text).toContain('pve_autopilot_node_online{cluster="lab",node="px1",zone="px1"} 1');
    expect(text.indexOf('pve_autopilot_')).toBeLessThan(text.indexOf('temporal_request 7'));
  });

  it("still answers with ours when the SDK's exporter or the refresh fails", async () => {
    const m = populated();
    const text = await metricsText({
      metrics: m,
      sdkMetricsUrl: `http://127.0.0.1:${await freePort()}/metrics`,
      refresh: () => Promise.reject(new Error('Temporal down')),
    });
    expect(text).toContain('pve_autopilot_saga_outcomes_total');
    expect(text).toContain('# Temporal SDK metrics unavailable');
  });

  it('takes METRICS_ADDRESS as host:port and names it when it is not', () => {
    expect(parseMetricsAddress('127.0.0.1:9464')).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(parseMetricsAddress('[::1]:9000')).toEqual({ host: '::1', port: 9000 });
    expect(() => parseMetricsAddress('9464')).toThrow(/METRICS_ADDRESS: expected host:port/);
    expect(() => parseMetricsAddress('localhost:99999')).toThrow(/METRICS_ADDRESS/);
  });
});

describe('deploy/prometheus/alerts.yml and the Grafana dashboard', () => {
  const alerts = readFileSync('deploy/prometheus/alerts.yml', 'utf8');
  const dashboard = JSON.parse(readFileSync('deploy/grafana/pve-autopilot.json', 'utf8')) as {
    panels: Array<{ title: string; targets: Array<{ expr: string }> }>;
  };

  it('pass promtool check rules', () => {
    const check = promtool(readmeArgs('promtool check rules deploy/prometheus/alerts.yml'));
    expect(check.output).toContain('SUCCESS: 9 rules found');
    expect(check.status).toBe(0);
  });

  it("load into the compose stack's Prometheus config (promtool check config)", () => {
    const check = promtool(['check', 'config', 'deploy/prometheus/prometheus.yml']);
    expect(check.output).toContain('SUCCESS: 1 rule files found');
    expect(check.status).toBe(0);
  });

  it('fire as promtool test rules expects: once per node across worker replicas, not below the threshold', () => {
    const run = promtool(readmeArgs('promtool test rules test/fixtures/prometheus/alerts-test.yml'));
    expect(run.output).toContain('SUCCESS');
    expect(run.status).toBe(0);
  });

  it('name only families the worker serves', async () => {
    const served = families(await populated().text());
    const exprs = [
      ...(parseYaml(alerts) as { groups: Array<{ rules: Array<{ expr: string }> }> }).groups.flatMap((g) =>
        g.rules.map((r) => r.expr),
      ),
      ...dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr)),
    ];
    const named = new Set(
      exprs.flatMap((e) =>
        [...e.matchAll(/pve_autopilot_[a-z_]+/g)].map((m) => m[0].replace(/_(bucket|sum|count)$/, '')),
      ),
    );
    expect(named.size).toBeGreaterThan(15);
    expect([...named].filter((n) => !served.has(n))).toEqual([]);
  });
});
