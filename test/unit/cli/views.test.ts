import { describe, expect, it } from 'vitest';
import { clusterView, requireManagedContainer, requireNode } from '../../../src/cli/cluster';
import { workflowUrl } from '../../../src/cli/context';
import { UsageError } from '../../../src/cli/exit-codes';
import { ProgressLine, table } from '../../../src/cli/output';
import { parseConfig } from '../../../src/config';
import type { ClusterResource } from '../../../src/proxmox';

const GiB = 1024 ** 3;
const scope = { vmidMin: 1400, vmidMax: 1499 };

const resources: ClusterResource[] = [
  {
    id: 'node/srv-px2',
    type: 'node',
    node: 'srv-px2',
    status: 'online',
    cpu: 0.0125,
    maxcpu: 16,
    mem: 8 * GiB,
    maxmem: 32 * GiB,
    disk: 10 * GiB,
    maxdisk: 100 * GiB,
  },
  { id: 'node/srv-px1', type: 'node', node: 'srv-px1', status: 'offline' },
  {
    id: 'lxc/1401',
    type: 'lxc',
    vmid: 1401,
    node: 'srv-px2',
    name: 'web-1401',
    status: 'running',
    cpu: 0.5,
    maxcpu: 2,
    mem: 512 * 1024 ** 2,
    maxmem: 2 * GiB,
    disk: 2 * GiB,
    maxdisk: 8 * GiB,
    lock: 'migrate',
  },
  { id: 'lxc/100', type: 'lxc', vmid: 100, node: 'srv-px2', name: 'gateway', status: 'running' },
  {
    id: 'lxc/1450',
    type: 'lxc',
    vmid: 1450,
    node: 'srv-px2',
    name: 'tpl',
    status: 'stopped',
    template: true,
  },
  { id: 'qemu/1460', type: 'qemu', vmid: 1460, node: 'srv-px2', name: 'vm', status: 'running' },
  { id: 'storage/srv-px2/local', type: 'storage', node: 'srv-px2', storage: 'local' },
];

describe('clusterView', () => {
  it('gives nodes and containers in percent, as the lab printed them, with the managed flag and locks', () => {
    const view = clusterView(resources, scope);
    expect(view.nodes).toEqual([
      {
        name: 'srv-px1',
        zone: null,
        status: 'offline',
        cpuPercent: null,
        memPercent: null,
        diskPercent: null,
        containers: 0,
      },
      {
        name: 'srv-px2',
        zone: null,
        status: 'online',
        cpuPercent: 1.3,
        memPercent: 25,
        diskPercent: 10,
        containers: 3,
      },
    ]);
    expect(view.containers.map((c) => [c.vmid, c.managed])).toEqual([
      [100, false],
      [1401, true],
      [1450, false],
    ]);
    expect(view.containers[1]).toMatchObject({
      cpuPercent: 50,
      memPercent: 25,
      diskPercent: 25,
      lock: 'migrate',
    });
  });

  it('gives each node its configured zone, and none to a node in no zone', () => {
    const view = clusterView(resources, scope, { dc1: ['srv-px2'] });
    expect(view.nodes.map((n) => [n.name, n.zone])).toEqual([
      ['srv-px1', null],
      ['srv-px2', 'dc1'],
    ]);
  });
});

describe('requireManagedContainer and requireNode', () => {
  it('accepts a managed container and a known node', () => {
    expect(requireManagedContainer(resources, 1401, scope, 'migrate').name).toBe('web-1401');
    expect(() => requireNode(resources, 'srv-px1', 'migrate')).not.toThrow();
  });

  it.each([
    [1499, /migrate: no container 1499 in the cluster/],
    [100, /CT 100 \(gateway\) is not managed by pve-autopilot \(scope: vmids 1400-1499\)/],
    [1450, /CT 1450 \(tpl\) is a template/],
    [1460, /1460 \(vm\) is a virtual machine/],
  ])('refuses vmid %d with a usage error', (vmid, message) => {
    expect(() => requireManagedContainer(resources, vmid, scope, 'migrate')).toThrow(UsageError);
    expect(() => requireManagedContainer(resources, vmid, scope, 'migrate')).toThrow(message);
  });

  it('names the nodes there are when the node is unknown', () => {
    expect(() => requireNode(resources, 'srv-px9', 'migrate')).toThrow(
      'migrate: unknown node "srv-px9"; the cluster has srv-px1, srv-px2',
    );
  });
});

describe('output', () => {
  it('pads columns and aligns numeric ones right', () => {
    expect(
      table(
        ['NAME', 'CPU %'],
        [
          ['a', '1.0'],
          ['long-name', '12.5'],
        ],
        [1],
      ),
    ).toBe(['NAME       CPU %', 'a            1.0', 'long-name   12.5'].join('\n'));
  });

  it('rewrites one line on a terminal and prints one line per change elsewhere', () => {
    const written: string[] = [];
    const tty = new ProgressLine({ isTTY: true, write: (t: string) => written.push(t) });
    tty.show('a');
    tty.show('b');
    tty.end();
    expect(written.join('')).toBe('\r\x1b[2Ka\r\x1b[2Kb\n');
    written.length = 0;
    const log = new ProgressLine({ isTTY: false, write: (t: string) => written.push(t) });
    log.show('a');
    log.show('a');
    log.show('b');
    log.end();
    expect(written.join('')).toBe('a\nb\n');
  });
});

describe('workflowUrl', () => {
  const config = parseConfig('temporal:\n  address: temporal.lab:7233\n  namespace: ops\n', {});

  it('points at the Web UI on the Temporal host, port 8233, unless TEMPORAL_UI_URL names another', () => {
    expect(workflowUrl(config, {}, 'ct-pve-1401')).toBe(
      'http://temporal.lab:8233/namespaces/ops/workflows/ct-pve-1401',
    );
    expect(workflowUrl(config, { TEMPORAL_UI_URL: 'https://ui.example.org/' }, 'ct-pve-1401')).toBe(
      'https://ui.example.org/namespaces/ops/workflows/ct-pve-1401',
    );
  });
});
