// Histories recorded from earlier test runs (RECORD_HISTORIES=1) replay against today's workflow
// code: a change that would break runs already in flight fails here, not in production.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Worker } from '@temporalio/worker';
import { historyFixturesDir, workflowBundle } from '../support/temporal';

interface RecordedHistory {
  events: Array<{ workflowExecutionStartedEventAttributes?: { workflowId?: string } }>;
}

const files = readdirSync(historyFixturesDir).filter((f) => f.endsWith('.json'));

describe('recorded workflow histories replay deterministically', () => {
  it('has recorded histories to replay', () => {
    expect(files.length).toBeGreaterThanOrEqual(10);
  });

  it.each(files)('%s', async (file) => {
    const history = JSON.parse(readFileSync(join(historyFixturesDir, file), 'utf8')) as RecordedHistory;
    // The run's own id, not the file name: workflows read it (provision marks its containers with it).
    const workflowId = history.events[0]?.workflowExecutionStartedEventAttributes?.workflowId;
    expect(workflowId).toBeTruthy();
    await Worker.runReplayHistory({ workflowBundle: workflowBundle() }, history, workflowId);
  });
});
