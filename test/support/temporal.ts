// Per-file access to the shared test server: a client, a worker on a unique task queue, and a
// replay check over a finished run's history.
import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { inject } from 'vitest';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkerOptions } from '@temporalio/worker';
import type { WorkflowHandle } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import proto from '@temporalio/proto';
import { unreadMetricsSinks } from '../../worker/metrics-sinks';

export async function connectTestEnv(): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createFromExistingServer({ address: inject('temporalAddress') });
}

export function workflowBundle(): { codePath: string } {
  return { codePath: inject('workflowBundlePath') };
}

/** A task queue of its own per test, so tests running in parallel never take each other's tasks. */
export function uniqueTaskQueue(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

export async function createTestWorker(
  env: TestWorkflowEnvironment,
  opts: { taskQueue: string; activities: WorkerOptions['activities'] },
): Promise<Worker> {
  return Worker.create({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue: opts.taskQueue,
    workflowBundle: workflowBundle(),
    activities: opts.activities,
    sinks: unreadMetricsSinks(),
  });
}

export const historyFixturesDir = join(process.cwd(), 'test', 'fixtures', 'histories');

/**
 * Replays a finished run's history against today's workflow code; throws on non-determinism.
 * With RECORD_HISTORIES=1 the history is also saved under test/fixtures/histories as `name`, so
 * test/integration/replay-fixtures.test.ts keeps replaying it after the code changes.
 */
export async function expectReplays(handle: WorkflowHandle, name?: string): Promise<void> {
  const history = await handle.fetchHistory();
  await Worker.runReplayHistory({ workflowBundle: workflowBundle() }, history, handle.workflowId);
  if (name && process.env.RECORD_HISTORIES === '1') {
    await mkdir(historyFixturesDir, { recursive: true });
    await writeFile(
      join(historyFixturesDir, `${name}.json`),
      historyToJSON(proto.temporal.api.history.v1.History.fromObject(history)),
    );
  }
}
