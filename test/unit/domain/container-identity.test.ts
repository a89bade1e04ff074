// containerIdentity tells a container from a later one that PVE gave the same vmid.
import { describe, expect, it } from 'vitest';
import { containerIdentity, ownerMarker } from '../../../src/domain';

describe('containerIdentity', () => {
  it('is the owner marker when a provision wrote one, whatever else the description says', () => {
    const description = `web tier\n${ownerMarker('provision-pve-7')}`;
    expect(containerIdentity(description, 'web-1401')).toBe('created-by: provision-pve-7');
  });

  it('falls back to the hostname', () => {
    expect(containerIdentity('', 'web-1401')).toBe('hostname: web-1401');
  });

  it('adds the MAC PVE gave the first network device', () => {
    const net0 = 'name=eth0,bridge=vmbr0,hwaddr=bc:24:11:0a:0b:0c,ip=dhcp,type=veth';
    expect(containerIdentity('', 'web-1401', net0)).toBe('hostname: web-1401, hwaddr BC:24:11:0A:0B:0C');
  });

  it('differs for two containers that share a vmid but not their creator', () => {
    const first = containerIdentity(ownerMarker('provision-pve-1'), 'autopilot-1401');
    const second = containerIdentity(ownerMarker('provision-pve-2'), 'autopilot-1401');
    expect(first).not.toBe(second);
  });
});
