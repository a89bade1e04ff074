// countingRequests counts the API requests of one piece of work only, also while other work sends
// requests through the same client at the same time (a saga beside the manager's observation).
import { describe, expect, it } from 'vitest';
import { createPveClient } from '../../../src/proxmox/client';
import { countingRequests } from '../../../src/proxmox/request-count';
import { fakeFetch, pveOk, TOKEN } from './fake-pve';

describe('countingRequests', () => {
  it('counts the requests sent inside its work, not those of concurrent work', async () => {
    const fake = fakeFetch(async () => {
      await new Promise((r) => setTimeout(r, 5));
      return pveOk([]);
    });
    const client = createPveClient({ host: 'pve.example', ...TOKEN }, { fetch: fake.fetch });
    const [observation, other] = await Promise.all([
      countingRequests(() => client.clusterResources()),
      countingRequests(async () => {
        for (let i = 0; i < 3; i++) await client.clusterResources();
      }),
      client.clusterResources(), // outside any count
    ]);
    expect(observation.requests).toBe(1);
    expect(observation.value).toEqual([]);
    expect(other.requests).toBe(3);
    expect(fake.requests).toHaveLength(5);
  });
});
