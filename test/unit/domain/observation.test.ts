import { describe, expect, it } from 'vitest';
import {
  decodeObservation,
  encodeObservation,
  snapshotOf,
  type ClusterSnapshot,
  type ContainerState,
} from '../../../src/domain';

const MiB = 1024 * 1024;
const node = (name: string) => ({
  name,
  status: 'online' as const,
  cpu: 0.25,
  maxcpu: 16,
  mem: 9_876_543_210,
  maxmem: 32 * 1024 * MiB,
  disk: 1,
  maxdisk: 2,
});
const ct = (vmid: number, extra: Partial<ContainerState> = {}): ContainerState => ({
  vmid,
  name: `CT${vmid}`,
  node: 'px1',
  status: 'running',
  cpu: 0.1234,
  maxcpu: 2,
  mem: 300 * 1024 * 1024 + 4096,
  maxmem: 512 * MiB,
  disk: 1024 * MiB,
  maxdisk: 8192 * MiB,
  uptime: 3600,
  tags: [],
  template: false,
  ...extra,
});

describe('the compact observation', () => {
  const snapshot: ClusterSnapshot = {
    takenAt: 1_700_000_000_000,
    nodes: [node('px1'), node('px2')],
    containers: [
      ct(1401),
      ct(1402, { node: 'px2', status: 'stopped', pool: 'web', tags: ['a', 'b'], lock: 'migrate' }),
      ct(1403, { pool: 'web', template: true, tags: ['a', 'b'] }),
    ],
  };

  it('decodes to the snapshot it was made from (names aside)', () => {
    expect(decodeObservation(encodeObservation(snapshot))).toEqual(snapshot);
  });

  it('keeps the network counters, in KiB, and reads rows written before them without', () => {
    const counted = {
      ...snapshot,
      containers: [ct(1401, { netin: 5_000 * 1024, netout: 77 * 1024 }), ct(1405)],
    };
    const obs = encodeObservation(counted);
    expect(obs.containers[0]?.slice(-2)).toEqual([5_000, 77]);
    expect(decodeObservation(obs)).toEqual(counted);
    // An older row ends at the lock column: no counters, rather than zeros.
    const old = { ...obs, containers: obs.containers.map((row) => row.slice(0, 13)) };
    const back = decodeObservation(old).containers[0];
    expect(back && 'netin' in back).toBe(false);
  });

  it('stores each pool and tag list once', () => {
    const obs = encodeObservation(snapshot);
    expect(obs.strings).toEqual(['web', 'a;b', 'migrate']);
  });

  it('keeps a container on a node the API did not list, on a node of unknown state', () => {
    const lost = { ...snapshot, containers: [ct(1404, { node: 'ghost' })] };
    const back = decodeObservation(encodeObservation(lost));
    expect(back.containers[0]?.node).toBe('ghost');
    expect(back.nodes.find((n) => n.name === 'ghost')?.status).toBe('unknown');
  });

  it('reads a full snapshot, as histories recorded before the compact form hold', () => {
    expect(snapshotOf(snapshot)).toBe(snapshot);
    expect(snapshotOf(encodeObservation(snapshot))).toEqual(snapshot);
  });

  it('costs under 75 bytes a container', () => {
    const many: ClusterSnapshot = {
      ...snapshot,
      containers: Array.from({ length: 2000 }, (_, i) =>
        ct(10_000 + i, { name: `web-${10_000 + i}`, pool: `team${i % 9}`, node: i % 2 ? 'px1' : 'px2' }),
      ),
    };
    expect(JSON.stringify(encodeObservation(many)).length / 2000).toBeLessThan(75);
  });
});
