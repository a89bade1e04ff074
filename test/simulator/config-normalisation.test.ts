// Property strings stored as pve-container stores them: a NIC gets type=veth and a generated MAC,
// keys come back in PVE's order (required `name` first, then the rest sorted), on create and on PUT.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSim } from '../../simulator/index.js';
import { raw, startManualLab, tokenApi, waitTask } from './support/client.js';

const MAC = /^[0-9A-F]{2}(:[0-9A-F]{2}){5}$/;

describe('config as PVE stores it', () => {
  let sim: RunningSim;
  beforeAll(async () => {
    sim = await startManualLab();
  });
  afterAll(async () => sim.stop());

  it('a created CT has net0 with type=veth, a BC:24:11 hwaddr and keys in PVE order', async () => {
    const api = tokenApi(sim);
    const upid = await api.nodes.$('srv-px1').lxc.$post({
      vmid: 1450,
      ostemplate: 'local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst',
      rootfs: 'local-lvm:4',
      net0: 'ip=dhcp,bridge=vmbr0,name=eth0,firewall=1',
      features: 'nesting=1,keyctl=1',
    });
    await waitTask(sim, api, upid);
    const cfg = await api.nodes.$('srv-px1').lxc.$(1450).config.$get();
    const m = /^name=eth0,bridge=vmbr0,firewall=1,hwaddr=([^,]+),ip=dhcp,type=veth$/.exec(String(cfg.net0));
    expect(m, String(cfg.net0)).not.toBeNull();
    expect(m![1]).toMatch(MAC);
    expect(m![1]!.startsWith('BC:24:11:')).toBe(true);
    expect(cfg.features).toBe('keyctl=1,nesting=1');
  });

  it('a PUT keeps a given hwaddr and normalises the rest; a NIC without name changes nothing', async () => {
    const path = '/nodes/srv-px1/lxc/1400/config';
    const ok = await raw(sim, 'PUT', path, {
      form: { net1: 'type=veth,hwaddr=BC:24:11:00:00:01,name=eth1,bridge=vmbr1' },
    });
    expect(ok.status).toBe(200);
    const cfg = (await raw(sim, 'GET', path)).json?.data as Record<string, unknown>;
    expect(cfg.net1).toBe('name=eth1,bridge=vmbr1,hwaddr=BC:24:11:00:00:01,type=veth');
    const bad = await raw(sim, 'PUT', path, { form: { cores: 4, net2: 'bridge=vmbr0' } });
    expect(bad.status).toBe(400);
    expect(bad.json?.errors?.net2).toMatch(/net2\.name: property is missing/);
    const after = (await raw(sim, 'GET', path)).json?.data as Record<string, unknown>;
    expect([after.cores, after.net2]).toEqual([cfg.cores, undefined]);
  });
});
