// UPID parsing: the parts a retry needs to find and identify a task.

import { describe, expect, it } from 'vitest';
import { isUpid, parseUpid, upidVmid } from '../../../src/proxmox/upid';

describe('parseUpid', () => {
  it('splits a migration UPID into node, hex-decoded pid/pstart/starttime, type, id and user', () => {
    const upid = 'UPID:pve1:00010D94:001CA6EA:6124E1B9:vzmigrate:101:root@pam:';
    expect(parseUpid(upid)).toEqual({
      upid,
      node: 'pve1',
      pid: 0x10d94,
      pstart: 0x1ca6ea,
      starttime: 0x6124e1b9,
      type: 'vzmigrate',
      id: '101',
      user: 'root@pam',
    });
  });

  it('keeps the token id in the user part of a task started with an API token', () => {
    expect(parseUpid('UPID:pve2:0000ABCD:00001234:65000000:vzstart:205:root@pam!autopilot:')?.user).toBe(
      'root@pam!autopilot',
    );
  });

  it('accepts an empty id and a 9-digit pstart, as PVE does', () => {
    const parts = parseUpid('UPID:node-a:0000ABCD:123456789:65000000:vzdump::root@pam:');
    expect(parts).toMatchObject({ node: 'node-a', id: '', pstart: 0x123456789, type: 'vzdump' });
  });

  it.each([
    ['missing trailing colon', 'UPID:pve1:00010D94:001CA6EA:6124E1B9:vzmigrate:101:root@pam'],
    ['wrong prefix', 'TASK:pve1:00010D94:001CA6EA:6124E1B9:vzmigrate:101:root@pam:'],
    ['short pid', 'UPID:pve1:10D94:001CA6EA:6124E1B9:vzmigrate:101:root@pam:'],
    ['node with a slash', 'UPID:pve/1:00010D94:001CA6EA:6124E1B9:vzmigrate:101:root@pam:'],
    ['empty', ''],
  ])('rejects %s', (_name, text) => {
    expect(parseUpid(text)).toBeUndefined();
    expect(isUpid(text)).toBe(false);
  });
});

describe('upidVmid', () => {
  it('reads the vmid of a container task and nothing from other ids', () => {
    expect(upidVmid({ id: '101' })).toBe(101);
    expect(upidVmid({ id: '' })).toBeUndefined();
    expect(upidVmid({ id: 'local' })).toBeUndefined();
  });
});
