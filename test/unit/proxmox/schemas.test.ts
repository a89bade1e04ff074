// Response schemas: PVE's loose typing is accepted, a broken answer names its call and field.

import { describe, expect, it } from 'vitest';
import { PveError } from '../../../src/proxmox/errors';
import {
  clusterResourcesSchema,
  containerConfigSchema,
  nextIdSchema,
  parseResponse,
  taskStatusSchema,
  upidSchema,
} from '../../../src/proxmox/schemas';

function failureOf(run: () => unknown): PveError {
  try {
    run();
  } catch (err) {
    if (err instanceof PveError) return err;
    throw err;
  }
  throw new Error('expected a PveError');
}

describe('parseResponse', () => {
  const where = { method: 'GET', path: '/cluster/resources' };

  it('names the call and the array index and field that broke the contract', () => {
    const err = failureOf(() =>
      parseResponse(
        clusterResourcesSchema,
        [
          { id: 'node/pve1', type: 'node', node: 'pve1', maxmem: 1 },
          { id: 'node/pve2', type: 'node', node: 'pve2', maxmem: 'lots' },
        ],
        where,
      ),
    );
    expect(err.kind).toBe('bad-response');
    expect(err.retryable).toBe(false);
    expect(err.issues?.[0]?.path).toBe('data[1].maxmem');
    expect(err.message).toMatch(
      /^GET \/cluster\/resources: unexpected answer: data\[1\]\.maxmem: .*expected number/,
    );
  });

  it('requires vmid and node on guest entries', () => {
    const err = failureOf(() => parseResponse(clusterResourcesSchema, [{ id: 'lxc/1', type: 'lxc' }], where));
    expect(err.issues?.map((i) => i.path)).toEqual(['data[0].vmid', 'data[0].node']);
  });

  it('rejects an answer of the wrong shape at the root', () => {
    const err = failureOf(() => parseResponse(clusterResourcesSchema, null, where));
    expect(err.issues?.[0]?.path).toBe('data');
  });

  it('names a missing digest in a container config', () => {
    const err = failureOf(() =>
      parseResponse(
        containerConfigSchema,
        { cores: 2 },
        { method: 'GET', path: '/nodes/pve1/lxc/101/config' },
      ),
    );
    expect(err.message).toContain('/nodes/pve1/lxc/101/config');
    expect(err.issues?.[0]?.path).toBe('data.digest');
  });

  it('returns the parsed value when the answer fits', () => {
    expect(parseResponse(nextIdSchema, '100', where)).toBe(100);
  });
});

describe('PVE value quirks', () => {
  it('reads numeric strings as numbers and 0/1 as booleans', () => {
    const [ct] = clusterResourcesSchema.parse([
      { id: 'lxc/101', type: 'lxc', vmid: '101', node: 'pve1', maxmem: '536870912', template: 1 },
    ]);
    expect(ct).toMatchObject({ vmid: 101, maxmem: 536870912, template: true });
  });

  it('rejects a non-numeric string where a number belongs', () => {
    expect(nextIdSchema.safeParse('abc').success).toBe(false);
  });

  it('splits config tags and keeps keys it does not model (net0)', () => {
    const config = containerConfigSchema.parse({
      digest: 'abc',
      tags: 'a;b',
      net0: 'name=eth0,bridge=vmbr0',
      onboot: 0,
    });
    expect(config.tags).toEqual(['a', 'b']);
    expect(config.onboot).toBe(false);
    expect(config.net0).toBe('name=eth0,bridge=vmbr0');
  });

  it('accepts task status only with a well-formed UPID', () => {
    const base = {
      node: 'pve1',
      pid: 1,
      pstart: 2,
      starttime: 3,
      type: 'vzstart',
      id: '101',
      user: 'root@pam',
      status: 'running',
    };
    expect(
      taskStatusSchema.safeParse({
        ...base,
        upid: 'UPID:pve1:00000001:00000002:00000003:vzstart:101:root@pam:',
      }).success,
    ).toBe(true);
    expect(taskStatusSchema.safeParse({ ...base, upid: 'not-a-upid' }).success).toBe(false);
    expect(upidSchema.safeParse('').success).toBe(false);
  });
});
