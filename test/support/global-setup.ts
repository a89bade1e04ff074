// Integration tests share one Temporal dev server (the provisioned CLI, or TEMPORAL_TEST_ADDRESS)
// and one workflow bundle, built once here instead of once per test file.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode } from '@temporalio/worker';
import { ensureTemporalCli } from '../../scripts/temporal-cli';
import { workflowsPath } from '../../worker/create-worker';
import { allSearchAttributes } from '../../workflows/search-attributes';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    workflowBundlePath: string;
  }
}

let env: TestWorkflowEnvironment | undefined;

export async function setup(project: TestProject): Promise<void> {
  let address = process.env.TEMPORAL_TEST_ADDRESS;
  if (!address) {
    const path = await ensureTemporalCli();
    env = await TestWorkflowEnvironment.createLocal({
      server: {
        executable: { type: 'existing-path', path },
        searchAttributes: allSearchAttributes,
        ui: false,
        extraArgs: ['--log-level', 'error'],
      },
    });
    address = env.address;
  }
  const { code } = await bundleWorkflowCode({ workflowsPath, logger: quietLogger });
  const dir = join(process.cwd(), '.test-results');
  await mkdir(dir, { recursive: true });
  const workflowBundlePath = join(dir, 'workflow-bundle.js');
  await writeFile(workflowBundlePath, code);
  project.provide('temporalAddress', address);
  project.provide('workflowBundlePath', workflowBundlePath);
}

export async function teardown(): Promise<void> {
  await env?.teardown();
}

const noop = () => undefined;
const quietLogger = { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: noop };
