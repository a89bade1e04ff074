// POST /access/ticket as PVE's create_ticket does it: a given realm is always appended to the user
// name, a name without a realm is nobody, and every failure answers 401 after pveproxy's 3 s delay.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSim } from '../../simulator/index.js';
import { TEST_DATA_DIR, admin, raw, startManualLab } from './support/client.js';

async function login(
  sim: RunningSim,
  form: Record<string, string>,
): Promise<{ status: number; reason: string; user?: string }> {
  const res = await raw(sim, 'POST', '/access/ticket', { form, noAuth: true });
  return {
    status: res.status,
    reason: res.reason,
    user: (res.json?.data as { username?: string } | null)?.username,
  };
}

describe('login realms', () => {
  let sim: RunningSim;
  beforeAll(async () => {
    sim = await startManualLab();
  });
  afterAll(async () => sim.stop());

  it('root@pam without a realm logs in as root@pam', async () => {
    expect(await login(sim, { username: 'root@pam', password: sim.user.password })).toEqual({
      status: 200,
      reason: 'OK',
      user: 'root@pam',
    });
  });

  it('root with realm=pam logs in as root@pam', async () => {
    expect(await login(sim, { username: 'root', realm: 'pam', password: sim.user.password })).toEqual({
      status: 200,
      reason: 'OK',
      user: 'root@pam',
    });
  });

  it('root@pam with realm=pam is the unknown user root@pam@pam: 401', async () => {
    const res = await login(sim, { username: 'root@pam', realm: 'pam', password: sim.user.password });
    expect([res.status, res.reason]).toEqual([401, 'authentication failure']);
  });

  it('a bare root without a realm is no user: 401', async () => {
    const res = await login(sim, { username: 'root', password: sim.user.password });
    expect([res.status, res.reason]).toEqual([401, 'authentication failure']);
  });

  it('the realm of another user works the same way (auditor + realm=pve)', async () => {
    expect(await login(sim, { username: 'auditor', realm: 'pve', password: 'auditor-pass' })).toMatchObject({
      status: 200,
      user: 'auditor@pve',
    });
    expect((await login(sim, { username: 'auditor', realm: 'pam', password: 'auditor-pass' })).status).toBe(
      401,
    );
  });
});

describe('the delay on a failed login', () => {
  // At 10 simulated seconds per wall second the 3 s delay costs 0.3 s of wall time; it is measured
  // on pve-sim's own clock.
  let sim: RunningSim;
  beforeAll(async () => {
    sim = await startSimulator({
      scenario: 'lab-2node',
      port: 0,
      clock: { mode: 'realtime', speed: 10 },
      dataDir: TEST_DATA_DIR,
      quiet: true,
    });
  });
  afterAll(async () => sim.stop());

  const simulatedMs = async (run: () => Promise<unknown>): Promise<number> => {
    const before = (await admin<{ now: number }>(sim, 'GET', '/clock')).now;
    await run();
    return (await admin<{ now: number }>(sim, 'GET', '/clock')).now - before;
  };

  it('a wrong password answers only after 3 simulated seconds, a good one at once', async () => {
    const failed = await simulatedMs(() => login(sim, { username: 'root@pam', password: 'wrong' }));
    expect(failed).toBeGreaterThanOrEqual(3000);
    const unknownRealm = await simulatedMs(() =>
      login(sim, { username: 'root@pam', realm: 'pam', password: sim.user.password }),
    );
    expect(unknownRealm).toBeGreaterThanOrEqual(3000);
    const ok = await simulatedMs(() => login(sim, { username: 'root@pam', password: sim.user.password }));
    expect(ok).toBeLessThan(3000);
  });
});
