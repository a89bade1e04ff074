// Reads, at each scrape, what the gauges show from Temporal: the running manager's latest
// observation and settings (queries), and the open needs-attention runs (visibility). Every worker
// reads the same, so the gauges agree across workers; a manager that is not running shows no node
// or container series, and a cluster whose reads fail shows none rather than stale ones.
import { Client, QueryRejectCondition, type ConnectionLike } from '@temporalio/client';
import { feedOf } from '../src/metrics/feed';
import type { OrchestratorMetrics } from '../src/metrics/orchestrator-metrics';
import { clusterManagerWorkflowId, lastSnapshotQuery, managerStatusQuery } from '../workflows/messages';
import { PveNeedsAttention } from '../workflows/search-attributes';

export interface ReaderDeps {
  connection: ConnectionLike;
  namespace: string;
  clusters: readonly string[];
  metrics: OrchestratorMetrics;
  /** Logged once per change of a cluster's problem, not at every scrape. */
  onProblem?: (cluster: string, problem: string | null) => void;
}

/** Needs-attention runs looked at per scrape, at most; there should be few. */
const MAX_LISTED = 500;

export function createMetricsReader(deps: ReaderDeps): () => Promise<void> {
  // A closed manager is not replayed at every scrape to answer a query: it has no live observation.
  const client = new Client({
    connection: deps.connection,
    namespace: deps.namespace,
    workflow: { queryRejectCondition: QueryRejectCondition.NOT_OPEN },
  });
  const problems = new Map<string, string | null>();
  const note = (cluster: string, problem: string | null) => {
    if ((problems.get(cluster) ?? null) === problem) return;
    problems.set(cluster, problem);
    deps.onProblem?.(cluster, problem);
  };

  async function readCluster(cluster: string): Promise<void> {
    try {
      const handle = client.workflow.getHandle(clusterManagerWorkflowId(cluster));
      const [snapshot, state] = await Promise.all([
        handle.query(lastSnapshotQuery),
        handle.query(managerStatusQuery),
      ]);
      deps.metrics.setFeed(cluster, snapshot ? feedOf(snapshot, state.settings) : null);
      note(cluster, null);
    } catch (err) {
      deps.metrics.setFeed(cluster, null);
      note(cluster, `no observation from the cluster manager: ${(err as Error).message}`);
    }
    try {
      deps.metrics.setNeedsAttention(cluster, await openNeedsAttention(cluster));
    } catch (err) {
      deps.metrics.setNeedsAttention(cluster, null);
      note(cluster, `cannot count needs-attention runs: ${(err as Error).message}`);
    }
  }

  /** Runs marked needs-attention that are still their workflow id's latest run (nothing ran since). */
  async function openNeedsAttention(cluster: string): Promise<number> {
    const prefixes = [`ct-${cluster}-`, `provision-${cluster}-`];
    const marked = new Map<string, Set<string>>();
    let listed = 0;
    for await (const wf of client.workflow.list({ query: `${PveNeedsAttention.name} = true` })) {
      if (++listed > MAX_LISTED) break;
      if (!prefixes.some((p) => wf.workflowId.startsWith(p))) continue;
      const runs = marked.get(wf.workflowId) ?? new Set<string>();
      marked.set(wf.workflowId, runs.add(wf.runId));
    }
    let open = 0;
    for (const [workflowId, runs] of marked) {
      const latest = await client.workflow.getHandle(workflowId).describe();
      if (runs.has(latest.runId)) open++;
    }
    return open;
  }

  let inFlight: Promise<void> | null = null;
  // Scrapes that arrive together share one read.
  return () => {
    inFlight ??= Promise.all(deps.clusters.map(readCluster)).then(
      () => {
        inFlight = null;
      },
      () => {
        inFlight = null;
      },
    );
    return inFlight;
  };
}
