// A Temporal dev server of a benchmark's own on a free port, headless, with the project's search
// attributes: spawned here rather than by the SDK, whose child would print its banner on stdout
// (where a --json run promises one document only).
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { searchAttributeFlags } from '../../workflows/search-attributes';
import { ensureTemporalCli } from '../temporal-cli';

export interface DevServer {
  address: string;
  env: TestWorkflowEnvironment;
  stop(): Promise<void>;
}

export async function startDevServer(): Promise<DevServer> {
  const port = await freePort();
  const server = spawn(await ensureTemporalCli(), devServerArgs(port), { stdio: 'ignore' });
  const address = `127.0.0.1:${port}`;
  const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
  const env = await connectWithin(address, 60_000);
  return {
    address,
    env,
    stop: async () => {
      await env.teardown();
      server.kill('SIGTERM');
      await exited;
    },
  };
}

/**
 * `temporal server start-dev` on 127.0.0.1:`port`, headless, quiet, with the project's search
 * attributes; `extra` adds flags (a `--db-filename` to keep its state in a file).
 */
export function devServerArgs(port: number, extra: readonly string[] = []): string[] {
  return [
    'server',
    'start-dev',
    '--headless',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    ...extra,
    '--log-level',
    'error',
    ...searchAttributeFlags().flatMap((flag) => ['--search-attribute', flag]),
  ];
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

async function connectWithin(address: string, ms: number): Promise<TestWorkflowEnvironment> {
  const until = Date.now() + ms;
  for (;;) {
    try {
      return await TestWorkflowEnvironment.createFromExistingServer({ address });
    } catch (err) {
      if (Date.now() > until)
        throw new Error(`the Temporal dev server on ${address} did not answer`, { cause: err });
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}
