// A Temporal dev server of one test file's own, whose state lives in a SQLite file, so the test can
// stop the server process mid-run and start it again on the same file and port: what a server
// restart is. The shared test server (global setup) keeps its state in memory and cannot do that.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { ensureTemporalCli } from '../../scripts/temporal-cli';
import { devServerArgs, freePort } from '../../scripts/lib/dev-server';

export interface RestartableDevServer {
  address: string;
  /** A client that reconnects by itself after a restart. */
  client: Client;
  /** Stops the server process (SIGKILL by default: a crash, nothing flushed on the way out). */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same database file and port; resolves once it answers. */
  start(): Promise<void>;
  teardown(): Promise<void>;
}

export async function startRestartableDevServer(): Promise<RestartableDevServer> {
  const cli = await ensureTemporalCli();
  const dir = await mkdtemp(join(tmpdir(), 'temporal-restart-'));
  const dbFile = join(dir, 'temporal.db');
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  let server: ChildProcess | undefined;
  let output = '';

  const spawnServer = async (): Promise<void> => {
    output = '';
    const child = spawn(cli, devServerArgs(port, ['--db-filename', dbFile]), {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    server = child;
    await answering(child);
  };

  /** Polls the frontend until it answers (a fresh Connection each time: no state to go stale). */
  const answering = async (child: ChildProcess): Promise<void> => {
    const until = Date.now() + 60_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the dev server exited (${child.exitCode}):\n${output}`);
      try {
        const probe = await Connection.connect({ address, connectTimeout: 1000 });
        try {
          await probe.workflowService.getSystemInfo({});
          return;
        } finally {
          await probe.close();
        }
      } catch (err) {
        if (Date.now() > until)
          throw new Error(`the dev server on ${address} did not answer:\n${output}`, { cause: err });
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  };

  const stop = async (signal: NodeJS.Signals = 'SIGKILL'): Promise<void> => {
    const child = server;
    server = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    await exited;
  };

  await spawnServer();
  const connection = await Connection.connect({ address });
  const client = new Client({ connection, namespace: 'default' });
  return {
    address,
    client,
    stop,
    start: spawnServer,
    teardown: async () => {
      await connection.close().catch(() => undefined);
      await stop('SIGTERM');
      await rm(dir, { recursive: true, force: true });
    },
  };
}
