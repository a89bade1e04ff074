// The README's two `npm run stack:prod` lines, run as written (default ports and data dir, from the
// repository): each brings up PostgreSQL, the self-hosted Temporal server, two workers and pve-sim,
// starts each cluster's generator and manager, and Ctrl-C stops it all. Checked from
// outside: the two workers poll every cluster's task queue and each cluster's loops are running.
// The default ports must be free (no `npm start` or other stack:prod running): the test says which
// one is taken rather than racing it.
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { clusterManagerWorkflowId, generatorWorkflowId } from '../../workflows/messages';

const REPO = new URL('../../', import.meta.url).pathname;
/** The ports the README's lines take by default: Temporal 7233 (+10..+30), PostgreSQL, metrics, pve-sim. */
const DEFAULT_PORTS = [7233, 7243, 7263, 5433, 9464, 9465, 8006, 8007, 8008];

function portTaken(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

interface Stack {
  child: ChildProcess;
  output: () => string;
  /** Every process of the line closed its output: npm and sh die of the SIGINT, the stack finishes. */
  closed: Promise<void>;
}

function runLine(line: string): Stack {
  const child = spawn('sh', ['-c', line], { cwd: REPO, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  return { child, output: () => out, closed };
}

async function until(what: string, stack: Stack, ms: number, ok: () => boolean): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (stack.child.exitCode !== null)
      throw new Error(`stack:prod exited before ${what}:\n${stack.output()}`);
    if (Date.now() > end) throw new Error(`no ${what} within ${ms / 1000} s:\n${stack.output()}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** What Ctrl-C in a terminal does: SIGINT to the whole process group. */
function ctrlC(stack: Stack): void {
  try {
    if (stack.child.pid) process.kill(-stack.child.pid, 'SIGINT');
  } catch {
    // The group is gone already.
  }
}

let running: Stack | undefined;
afterEach(async () => {
  if (running?.child.pid && running.child.exitCode === null && running.child.signalCode === null) {
    ctrlC(running);
    await running.closed;
  }
  running = undefined;
});

const lines: Array<{ line: string; clusters: Array<{ name: string; taskQueue: string }> }> = [
  { line: 'npm run stack:prod', clusters: [{ name: 'pve', taskQueue: 'pve-autopilot' }] },
  {
    line: 'npm run stack:prod -- --clusters 3',
    clusters: ['pve1', 'pve2', 'pve3'].map((name) => ({ name, taskQueue: `pve-autopilot-${name}` })),
  },
];

describe('the README lines of npm run stack:prod', { timeout: 900_000 }, () => {
  for (const { line, clusters } of lines) {
    it(`${line}: two workers poll each cluster's queue, its loops run, Ctrl-C stops it all`, async () => {
      for (const port of DEFAULT_PORTS) {
        expect(await portTaken(port), `port ${port} is taken: stop what holds it (npm start?)`).toBe(false);
      }
      running = runLine(line);
      const stack = running;
      await until('ready', stack, 600_000, () => stack.output().includes('[stack:prod] ready'));
      for (const c of clusters) {
        expect(stack.output()).toMatch(new RegExp(`${c.name}: generator (started|already running)`));
        expect(stack.output()).toMatch(new RegExp(`${c.name}: manager (started|already running)`));
      }

      const connection = await Connection.connect({ address: '127.0.0.1:7233' });
      try {
        const client = new Client({ connection, namespace: 'default' });
        for (const c of clusters) {
          const { pollers } = await client.workflowService.describeTaskQueue({
            namespace: 'default',
            taskQueue: {
              name: c.taskQueue,
              kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL,
            },
            taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
          });
          const identities = new Set((pollers ?? []).map((p) => p.identity));
          expect(identities.size, `workers polling ${c.taskQueue}`).toBe(2);
          for (const id of [generatorWorkflowId(c.name), clusterManagerWorkflowId(c.name)]) {
            const d = await client.workflow.getHandle(id).describe();
            expect(d.status.name, id).toBe('RUNNING');
          }
        }
      } finally {
        await connection.close();
      }

      ctrlC(stack);
      await stack.closed;
      expect(stack.output()).toContain('[stack:prod] stopped');
      for (const port of DEFAULT_PORTS)
        expect(await portTaken(port), `port ${port} after Ctrl-C`).toBe(false);
    });
  }
});
