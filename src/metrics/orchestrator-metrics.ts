// The orchestrator's own Prometheus metrics (prefix pve_autopilot_), with prom-client, in a registry
// of their own. Two kinds of source, so the numbers stay right with several workers:
// - gauges of nodes, containers, open needs-attention runs and the observation's age are the
//   manager's latest observation as read from Temporal (every worker shows the same values; take
//   `max without (instance)` across them);
// - counters and histograms count what this worker's own workflow tasks and activities did (a saga's
//   end, the manager's decisions and cycles, an observation's API requests): `sum without (instance)`.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Feed } from './feed';

export const METRIC_PREFIX = 'pve_autopilot_';

const nodeLabels = ['cluster', 'node', 'zone'] as const;
const containerLabels = ['cluster', 'vmid', 'node'] as const;

export class OrchestratorMetrics {
  readonly registry = new Registry();
  private readonly feeds = new Map<string, Feed>();
  private readonly needsAttention = new Map<string, number>();

  private readonly gauge = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
    new Gauge<L>({ name: METRIC_PREFIX + name, help, labelNames, registers: [this.registry] });

  private readonly node = {
    online: this.gauge('node_online', 'Whether the node is online (1) as PVE reports it.', nodeLabels),
    drained: this.gauge('node_drained', 'Whether the manager treats the node as drained (1).', nodeLabels),
    cpu: this.gauge('node_cpu_usage_ratio', 'CPU use of the node, 0..1 of its cores.', nodeLabels),
    cores: this.gauge('node_cpu_cores', 'CPU cores of the node.', nodeLabels),
    memUsed: this.gauge('node_memory_used_bytes', 'Memory the node uses.', nodeLabels),
    memTotal: this.gauge('node_memory_total_bytes', 'Memory of the node.', nodeLabels),
    memAllocated: this.gauge(
      'node_memory_allocated_bytes',
      'Memory configured for the containers on the node.',
      nodeLabels,
    ),
    memManaged: this.gauge(
      'node_memory_managed_ratio',
      "Managed containers' memory (by the manager's capacity basis) over the node's, 0..1.",
      nodeLabels,
    ),
    diskUsed: this.gauge('node_disk_used_bytes', "Used bytes of the node's root disk.", nodeLabels),
    diskTotal: this.gauge('node_disk_total_bytes', "Size of the node's root disk.", nodeLabels),
    netIn: this.gauge(
      'node_network_receive_bytes_per_second',
      "Bytes per second the node's containers received between the manager's last two observations.",
      nodeLabels,
    ),
    netOut: this.gauge(
      'node_network_transmit_bytes_per_second',
      "Bytes per second the node's containers sent between the manager's last two observations.",
      nodeLabels,
    ),
  };

  private readonly container = {
    running: this.gauge('container_running', 'Whether the managed container runs (1).', containerLabels),
    cpu: this.gauge(
      'container_cpu_usage_ratio',
      'CPU use of the container, 0..1 of its cores.',
      containerLabels,
    ),
    cores: this.gauge('container_cpu_cores', 'CPU cores configured for the container.', containerLabels),
    memUsed: this.gauge('container_memory_used_bytes', 'Memory the container uses.', containerLabels),
    memLimit: this.gauge('container_memory_limit_bytes', 'Memory limit of the container.', containerLabels),
  };

  private readonly observedAt = this.gauge(
    'observation_timestamp_seconds',
    "When the manager's latest observation of the cluster was taken (Unix time).",
    ['cluster'],
  );

  private readonly needsAttentionRuns = this.gauge(
    'needs_attention_runs',
    "Saga runs that need attention and are their container's latest operation.",
    ['cluster'],
  );

  private readonly sagaOutcomes = new Counter({
    name: `${METRIC_PREFIX}saga_outcomes_total`,
    help: 'Container sagas ended, by operation and outcome (counted by the worker that ran the end).',
    labelNames: ['cluster', 'operation', 'outcome'],
    registers: [this.registry],
  });

  private readonly decisions = new Counter({
    name: `${METRIC_PREFIX}decisions_total`,
    help: "The manager's new decisions, by rule and the automation level they were taken at.",
    labelNames: ['cluster', 'rule', 'automation'],
    registers: [this.registry],
  });

  private readonly cycleDuration = new Histogram({
    name: `${METRIC_PREFIX}manager_cycle_duration_seconds`,
    help: "Duration of the manager's monitoring cycles, observation to the last saga started.",
    labelNames: ['cluster'],
    buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120],
    registers: [this.registry],
  });

  private readonly cycleRequests = new Histogram({
    name: `${METRIC_PREFIX}manager_cycle_api_requests`,
    help: "Proxmox API requests of one manager cycle's observation.",
    labelNames: ['cluster'],
    buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500],
    registers: [this.registry],
  });

  sagaEnded(cluster: string, operation: string, outcome: string): void {
    this.sagaOutcomes.inc({ cluster, operation, outcome });
  }

  decisionsMade(cluster: string, decisions: ReadonlyArray<{ rule: string; automation: string }>): void {
    for (const d of decisions) this.decisions.inc({ cluster, rule: d.rule, automation: d.automation });
  }

  cycleEnded(cluster: string, durationMs: number): void {
    this.cycleDuration.observe({ cluster }, durationMs / 1000);
  }

  observed(cluster: string, apiRequests: number): void {
    this.cycleRequests.observe({ cluster }, apiRequests);
  }

  /** The cluster's latest observation; null when there is none to show (no manager, or unreadable). */
  setFeed(cluster: string, feed: Feed | null): void {
    if (feed === null) this.feeds.delete(cluster);
    else this.feeds.set(cluster, feed);
    this.showFeeds();
  }

  setNeedsAttention(cluster: string, runs: number | null): void {
    if (runs === null) this.needsAttention.delete(cluster);
    else this.needsAttention.set(cluster, runs);
    this.needsAttentionRuns.reset();
    for (const [c, n] of this.needsAttention) this.needsAttentionRuns.set({ cluster: c }, n);
  }

  /** Rebuilt whole, so a node or container that left the observation leaves the metrics too. */
  private showFeeds(): void {
    for (const g of [...Object.values(this.node), ...Object.values(this.container), this.observedAt])
      g.reset();
    for (const [cluster, feed] of this.feeds) {
      this.observedAt.set({ cluster }, feed.takenAt / 1000);
      for (const n of feed.nodes) {
        const l = { cluster, node: n.node, zone: n.zone };
        this.node.online.set(l, n.online ? 1 : 0);
        this.node.drained.set(l, n.drained ? 1 : 0);
        this.node.cpu.set(l, n.cpuRatio);
        this.node.cores.set(l, n.cores);
        this.node.memUsed.set(l, n.memoryUsedBytes);
        this.node.memTotal.set(l, n.memoryTotalBytes);
        this.node.memAllocated.set(l, n.memoryAllocatedBytes);
        this.node.memManaged.set(l, n.memoryManagedRatio);
        this.node.diskUsed.set(l, n.diskUsedBytes);
        this.node.diskTotal.set(l, n.diskTotalBytes);
        if (n.networkReceiveBytesPerSecond !== undefined)
          this.node.netIn.set(l, n.networkReceiveBytesPerSecond);
        if (n.networkTransmitBytesPerSecond !== undefined)
          this.node.netOut.set(l, n.networkTransmitBytesPerSecond);
      }
      for (const ct of feed.containers) {
        const l = { cluster, vmid: String(ct.vmid), node: ct.node };
        this.container.running.set(l, ct.running ? 1 : 0);
        this.container.cpu.set(l, ct.cpuRatio);
        this.container.cores.set(l, ct.cores);
        this.container.memUsed.set(l, ct.memoryUsedBytes);
        this.container.memLimit.set(l, ct.memoryLimitBytes);
      }
    }
  }

  /** The Prometheus text of our families. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
