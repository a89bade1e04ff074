// Inputs the node cannot hold: a scale to more cores than the node has, or to memory past the
// admission share of the node, and a provision that would take its node past it, are refused at
// preflight with nothing changed; absurd sizes are invalid input, named by field.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { scaleContainerWorkflow } from '../../../workflows/sagas/scale';
import type { provisionContainerWorkflow } from '../../../workflows/sagas/provision';
import { ctView, outcomeOf, startSagaEnv, type SagaEnv } from '../../support/saga-env';

const template = 'local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst';

let s: SagaEnv;
beforeAll(async () => {
  s = await startSagaEnv();
});
afterAll(async () => {
  await s?.teardown();
});

async function guestCount(): Promise<number> {
  return (await s.sim.pve.clusterResources('vm')).length;
}

describe('scaleContainerWorkflow sizes', () => {
  it.each([
    [{ cores: 999 }, 'Refused', /999 cores asked, but node srv-px1 has 16 CPUs/],
    [
      { memoryMiB: 1_000_000 },
      'Refused',
      /node srv-px1 would use \d+% of its memory, above the admission limit of 90%/,
    ],
    [{ memoryMiB: 1e12 }, 'InvalidInput', /memoryMiB: expected at most 4194304 MiB/],
    [{ cores: 100_000 }, 'InvalidInput', /cores: expected at most 8192 cores/],
  ])('%j on CT 1401 ends %s, config untouched', async (change, type, message) => {
    const before = await ctView(s.sim, 1401);
    const handle = await s.startSaga<typeof scaleContainerWorkflow>('scaleContainerWorkflow', {
      vmid: 1401,
      ...change,
    });
    const outcome = await s.run(() => outcomeOf(handle));
    expect(outcome).toMatchObject({ ok: false, type, message: expect.stringMatching(message) });
    expect(await ctView(s.sim, 1401)).toEqual(before);
  });

  it('still takes a size the node can hold', async () => {
    const handle = await s.startSaga<typeof scaleContainerWorkflow>('scaleContainerWorkflow', {
      vmid: 1401,
      cores: 16,
      memoryMiB: 2048,
    });
    expect(await s.run(() => outcomeOf(handle))).toMatchObject({ ok: true });
    expect(await ctView(s.sim, 1401)).toMatchObject({ cores: 16, memory: 2048, status: 'running' });
  });
});

describe('provisionContainerWorkflow sizes', () => {
  it.each([
    [
      { memoryMiB: 1_000_000 },
      'Refused',
      /node srv-px2 would use \d+% of its memory, above the admission limit of 90%/,
    ],
    [{ memoryMiB: 512, cores: 64 }, 'Refused', /64 cores asked, but node srv-px2 has 16 CPUs/],
    [{ memoryMiB: 1e12 }, 'InvalidInput', /memoryMiB: expected at most 4194304 MiB/],
  ])('%j ends %s and creates nothing', async (size, type, message) => {
    const guests = await guestCount();
    const handle = await s.startSaga<typeof provisionContainerWorkflow>('provisionContainerWorkflow', {
      node: 'srv-px2',
      template,
      storage: 'local-lvm',
      ...size,
    });
    const outcome = await s.run(() => outcomeOf(handle));
    expect(outcome).toMatchObject({ ok: false, type, message: expect.stringMatching(message) });
    expect(await guestCount()).toBe(guests);
  });
});
