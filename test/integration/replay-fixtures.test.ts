// Histories recorded from earlier test runs (RECORD_HISTORIES=1) replay against today's workflow
// code: a change that would break runs already in flight fails here, not in production.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Worker } from '@temporalio/worker';
import { historyFixturesDir, workflowBundle } from '../support/temporal';

const files = readdirSync(historyFixturesDir).filter((f) => f.endsWith('.json'));

describe('recorded workflow histories replay deterministically', () => {
  it('has recorded histories to replay', () => {
    expect(files.length).toBeGreaterThanOrEqual(10);
  });

  it.each(files)('%s', async (file) => {
    const history: unknown = JSON.parse(readFileSync(join(historyFixturesDir, file), 'utf8'));
    await Worker.runReplayHistory({ workflowBundle: workflowBundle() }, history, file.replace(/\.json$/, ''));
  });
});
