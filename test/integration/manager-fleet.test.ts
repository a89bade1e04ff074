// The manager on pve-sim's fleet-large (50 nodes, 2,000 containers): an idle cycle still reads the
// API exactly once, and its one observation stays small in history.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CoreSettings } from '../../src/policy';
import type { clusterManagerWorkflow } from '../../workflows/cluster-manager';
import {
  clusterManagerWorkflowId,
  managerStatusQuery,
  pauseManagerUpdate,
  resumeManagerUpdate,
  stopManagerUpdate,
} from '../../workflows/messages';
import { startSagaEnv, type SagaEnv } from '../support/saga-env';
import { waitFor } from '../support/manual-clock';

const settings: CoreSettings = {
  scope: { vmidMin: 10000, vmidMax: 19999 },
  capacityBasis: 'allocated',
  admissionShare: 0.9,
  cpuShare: 0.9,
  maxConcurrent: 2,
  maxPerNode: 2,
  maxPerKind: {},
  cooldownMs: 60_000,
  drainedNodes: [],
};

let s: SagaEnv;
beforeAll(async () => {
  s = await startSagaEnv({ scenario: 'fleet-large', clock: { mode: 'manual' } });
});
afterAll(async () => {
  await s?.teardown();
});

describe('clusterManagerWorkflow on 2,000 containers', () => {
  it('makes exactly one Proxmox API request per idle cycle', async () => {
    const cluster = `fleet-${Date.now() % 100_000}`;
    const handle = await s.env.client.workflow.start<typeof clusterManagerWorkflow>(
      'clusterManagerWorkflow',
      {
        taskQueue: s.taskQueue,
        workflowId: clusterManagerWorkflowId(cluster),
        // Thresholds no node reaches: every cycle is idle.
        args: [
          {
            cluster,
            settings,
            rules: { lab: { migratePercent: 99, dropPercent: 100 } },
            automation: 'auto',
            cycleSeconds: 1,
            seed: 1,
          },
        ],
      },
    );
    try {
      await waitFor('a first cycle', async () =>
        (await handle.query(managerStatusQuery)).cycle >= 1 ? true : undefined,
      );
      const before = await handle.executeUpdate(pauseManagerUpdate);
      await s.sim.admin('DELETE', '/_sim/counters');
      await handle.executeUpdate(resumeManagerUpdate);
      await waitFor('three more cycles', async () =>
        (await handle.query(managerStatusQuery)).cycle >= before.cycle + 3 ? true : undefined,
      );
      const after = await handle.executeUpdate(pauseManagerUpdate);
      const requests = await s.sim.admin<Record<string, number>>('GET', '/_sim/counters');
      const cycles = after.cycle - before.cycle;
      expect(cycles).toBeGreaterThanOrEqual(3);
      expect(requests).toEqual({ 'GET /cluster/resources': cycles });
      expect(after.lastObservation?.managedContainers).toBeGreaterThanOrEqual(1900);
      expect(after.core.decisions).toEqual([]);

      // The observation activity's result, as history keeps it.
      const history = await handle.fetchHistory();
      const sizes = (history.events ?? [])
        .filter((e) => e.activityTaskCompletedEventAttributes)
        .map((e) => e.activityTaskCompletedEventAttributes?.result?.payloads?.[0]?.data?.length ?? 0);
      expect(Math.max(...sizes)).toBeLessThan(150_000);
    } finally {
      await handle.executeUpdate(stopManagerUpdate).catch(() => undefined);
      await handle.terminate('test over').catch(() => undefined);
    }
  });
});
