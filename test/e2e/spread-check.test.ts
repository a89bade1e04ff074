// `spread check` as cron runs it, on pve-sim's zones-6node as shipped: a subprocess per call, with
// its stdout, stderr and exit code checked before and after the spread rule has run in `auto` in
// the real cluster manager (Temporal dev server, worker, real activities).
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { dirname } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SpreadReport } from '../../src/policy';
import {
  clusterManagerWorkflowId,
  managerStatusQuery,
  pauseManagerUpdate,
  resumeManagerUpdate,
} from '../../workflows/messages';
import { startSagaEnv, type SagaEnv } from '../support/saga-env';
import { waitFor } from '../support/manual-clock';
import { cliWorld, type CliWorld } from './support/cli';
import { readmeArgs } from '../support/readme-args';

const ZONES = [
  'zones:',
  '  zone-a: [pve-a1, pve-a2]',
  '  zone-b: [pve-b1, pve-b2]',
  '  zone-c: [pve-c1, pve-c2]',
];

let s: SagaEnv;
let w: CliWorld;
beforeAll(async () => {
  s = await startSagaEnv({ scenario: 'zones-6node' }, { scope: { vmidMin: 1000, vmidMax: 1999 } });
  await s.run(async () => undefined);
  w = await cliWorld(
    s.sim.sim,
    s.taskQueue,
    [
      'scope: { vmidMin: 1000, vmidMax: 1999 }',
      ...ZONES,
      'manager:',
      '  cycleSeconds: 2',
      '  cooldownSeconds: 5',
      '  maxConcurrent: 3',
      'lab:',
      '  enabled: false',
      'spread:',
      '  enabled: true',
      '  automation: auto',
      '',
    ].join('\n'),
  );
});
afterAll(async () => {
  if (w) await w.cli(['manager', 'stop']).catch(() => undefined);
  await s?.teardown();
});

describe('spread check on zones-6node', () => {
  it('exits 78 and names exactly the badly spread pools, one line each, nothing on stderr', async () => {
    const run = await w.cli(readmeArgs('pve-autopilot spread check'));
    expect(run).toEqual({
      code: 78,
      stdout:
        "Pool 'dns' has members to migrate\nPool 'mail' has members to migrate\nPool 'web' has members to migrate\n",
      stderr: '',
    });
  });

  it('leaves out the pools --exclude-pools names', async () => {
    const run = await w.cli(readmeArgs('pve-autopilot spread check --exclude-pools web'));
    expect(run).toEqual({
      code: 78,
      stdout: "Pool 'dns' has members to migrate\nPool 'mail' has members to migrate\n",
      stderr: '',
    });
    const both = await w.cli(['spread', 'check', '--exclude-pools', 'web,dns']);
    expect(both.stdout).toBe("Pool 'mail' has members to migrate\n");
  });

  it('prints each pool with its zones, nodes, skews and planned moves with --json', async () => {
    const run = await w.cli(['spread', 'check', '--json']);
    expect(run.code).toBe(78);
    const doc = JSON.parse(run.stdout) as { groups: SpreadReport[]; badlySpread: Array<{ name: string }> };
    expect(doc.badlySpread.map((b) => b.name)).toEqual(['dns', 'mail', 'web']);
    const web = doc.groups.find((g) => g.name === 'web');
    expect(web).toMatchObject({ zones: { 'zone-c': 6 }, nodes: { 'pve-c1': 4, 'pve-c2': 2 }, zoneSkew: 6 });
    expect(web?.moves).toHaveLength(4);
    expect(doc.groups.find((g) => g.name === 'dns')?.moves).toHaveLength(1);
    expect(doc.groups.find((g) => g.name === 'mail')?.moves).toHaveLength(1);
  });

  it('exits 2 naming a zone node the cluster lacks, and 5 when the API is unreachable', async () => {
    const bad = join(dirname(w.configPath), 'bad-zones.yaml');
    await writeFile(
      bad,
      ['scope: { vmidMin: 1000, vmidMax: 1999 }', 'zones:', '  zone-a: [pve-a1, pve-x9]', ''].join('\n'),
    );
    const run = await w.cli(['spread', 'check'], { env: { PVE_AUTOPILOT_CONFIG: bad } });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain("config error: zones.zone-a: node 'pve-x9' is not in the cluster");
    const validate = await w.cli(['config', 'validate', '--online'], { env: { PVE_AUTOPILOT_CONFIG: bad } });
    expect(validate.code).toBe(2);
    expect(validate.stderr).toContain("node 'pve-x9' is not in the cluster");

    const down = await w.cli(['spread', 'check'], { env: { PROXMOX_PORT: '1' } });
    expect(down.code).toBe(5);
    expect(down.stdout).toBe('');
    expect(down.stderr).toContain('cannot reach the Proxmox VE API');
  });

  it('exits 2 in config validate --online naming a pin node the cluster lacks', async () => {
    const pins = join(dirname(w.configPath), 'bad-pin.yaml');
    await writeFile(
      pins,
      [
        'affinity:',
        '  rules:',
        '    - { name: lic, kind: pin, tag: licensed, nodes: [pve-a1, pve-z9] }',
        '',
      ].join('\n'),
    );
    const run = await w.cli(['config', 'validate', '--online'], { env: { PVE_AUTOPILOT_CONFIG: pins } });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      "config error: affinity.rules[0].nodes: node 'pve-z9' is not in the cluster",
    );
    // Offline, the file alone is valid: the cluster's nodes are not known.
    expect((await w.cli(['config', 'validate'], { env: { PVE_AUTOPILOT_CONFIG: pins } })).code).toBe(0);
  });

  it('warns in config validate --online for a cluster node in no zone', async () => {
    const partial = join(dirname(w.configPath), 'partial-zones.yaml');
    await writeFile(partial, ['zones:', '  zone-a: [pve-a1, pve-a2]', ''].join('\n'));
    const run = await w.cli(['config', 'validate', '--online'], { env: { PVE_AUTOPILOT_CONFIG: partial } });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      "# warning: zones: node 'pve-b1' is in no zone; it counts as a zone of its own",
    );
  });

  it('exits 0 with no output once the spread rule has run in auto, every pool on every zone it can use', async () => {
    const start = await w.cli(['manager', 'start', '--automation', 'auto']);
    expect(start.code).toBe(0);
    let last = { code: null as number | null, stdout: '', stderr: '' };
    await waitFor(
      'spread check to exit 0',
      async () => {
        last = await w.cli(['spread', 'check']);
        return last.code === 0 ? true : undefined;
      },
      300_000,
    );
    expect(last).toEqual({ code: 0, stdout: '', stderr: '' });

    const doc = JSON.parse((await w.cli(['spread', 'check', '--json'])).stdout) as { groups: SpreadReport[] };
    const used = Object.fromEntries(doc.groups.map((g) => [g.name, [g.zonesUsed, g.nodesUsed]]));
    // dns: 3 members, 3 zones; mail: 2 members, 2 zones; web: 6 members, one per node.
    expect(used).toEqual({ dns: [3, 3], mail: [2, 2], web: [3, 6] });

    // Spread, the manager is idle again: exactly one API call per cycle.
    const handle = s.env.client.workflow.getHandle(clusterManagerWorkflowId(w.cluster));
    await waitFor('no operation in flight', async () =>
      (await handle.query(managerStatusQuery)).core.decisions.some((d) => d.status === 'running')
        ? undefined
        : true,
    );
    const before = await handle.executeUpdate(pauseManagerUpdate);
    await s.sim.admin('DELETE', '/_sim/counters');
    await handle.executeUpdate(resumeManagerUpdate);
    await waitFor('three more cycles', async () =>
      (await handle.query(managerStatusQuery)).cycle >= before.cycle + 3 ? true : undefined,
    );
    const after = await handle.executeUpdate(pauseManagerUpdate);
    const requests = await s.sim.admin<Record<string, number>>('GET', '/_sim/counters');
    expect(requests).toEqual({ 'GET /cluster/resources': after.cycle - before.cycle });
    const spreadMoves = after.core.decisions.filter((d) => d.rule === 'spread' && d.status === 'succeeded');
    expect(spreadMoves.length).toBe(6);
  }, 400_000);
});
