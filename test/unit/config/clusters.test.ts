// Several Proxmox clusters in one config: each entry becomes a single-cluster Config of its own,
// a single-cluster file keeps meaning what it meant, and bad entries are named by their path.
import { describe, expect, it } from 'vitest';
import {
  clusterConnectionOf,
  clustersOf,
  ConfigError,
  parseConfig,
  redactConfig,
  selectCluster,
} from '../../../src/config';

const SECRET_A = '11111111-1111-1111-1111-111111111111';
const SECRET_B = '22222222-2222-2222-2222-222222222222';

const twoClusters = `
scope: { vmidMin: 1400, vmidMax: 1499 }
manager: { cycleSeconds: 20 }
clusters:
  - name: east
    proxmox: { host: pve-east.lan, tokenId: root@pam!ap, tokenSecret: ${SECRET_A} }
  - name: west
    taskQueue: autopilot-west
    proxmox: { host: pve-west.lan, tokenId: root@pam!ap, tokenSecret: ${SECRET_B} }
    scope: { vmidMin: 2000, vmidMax: 2099 }
    manager: { cycleSeconds: 5 }
`;

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).message;
  }
  throw new Error('expected a config error');
}

describe('clustersOf', () => {
  it('a file without clusters: is the one cluster it always was', () => {
    const config = parseConfig('cluster: { name: lab }\nproxmox: { host: pve.lan }\n');
    const [only, ...rest] = clustersOf(config);
    expect(rest).toEqual([]);
    expect(only).toMatchObject({ name: 'lab', taskQueue: 'pve-autopilot', path: '' });
    expect(only?.config).toBe(config);
  });

  it('each entry gets its name, queue and connection; its sections replace the top level, others inherit', () => {
    const [east, west] = clustersOf(parseConfig(twoClusters));
    expect(east?.name).toBe('east');
    expect(east?.taskQueue).toBe('pve-autopilot-east');
    expect(east?.config.cluster.name).toBe('east');
    expect(east?.config.temporal.taskQueue).toBe('pve-autopilot-east');
    expect(east?.config.proxmox.host).toBe('pve-east.lan');
    expect(east?.config.scope).toMatchObject({ vmidMin: 1400, vmidMax: 1499 });
    expect(east?.config.manager.cycleSeconds).toBe(20);
    expect(west?.taskQueue).toBe('autopilot-west');
    expect(west?.config.proxmox.host).toBe('pve-west.lan');
    expect(west?.config.scope).toMatchObject({ vmidMin: 2000, vmidMax: 2099 });
    // A section given in the entry replaces the top-level one whole: unset fields take defaults.
    expect(west?.config.manager.cycleSeconds).toBe(5);
    expect(west?.config.manager.maxConcurrent).toBe(2);
    expect(west?.config).not.toHaveProperty('clusters');
  });
});

describe('bad cluster entries', () => {
  it('two clusters with one name are refused at the second', () => {
    const yaml = `clusters:\n  - name: a\n    proxmox: { host: x }\n  - name: a\n    proxmox: { host: y }\n`;
    expect(errorOf(() => parseConfig(yaml))).toBe(
      'config error: clusters[1].name: expected a name no other cluster has, got "a"',
    );
  });

  it('a bad token secret in an entry is named by its path and not echoed', () => {
    const yaml = `clusters:\n  - name: a\n    proxmox: { host: x, tokenId: root@pam!ap, tokenSecret: NOT-A-UUID }\n`;
    const message = errorOf(() => parseConfig(yaml));
    expect(message).toContain('clusters[0].proxmox.tokenSecret');
    expect(message).not.toContain('NOT-A-UUID');
  });

  it('an entry without a host fails where a client is built, naming the entry', () => {
    const [a] = clustersOf(
      parseConfig(
        'clusters:\n  - name: a\n    proxmox: { tokenId: root@pam!ap, tokenSecret: ' + SECRET_A + ' }\n',
      ),
    );
    expect(errorOf(() => clusterConnectionOf(a!))).toContain(
      'config error: clusters[0].proxmox.host: expected a host',
    );
  });

  it('an entry without a name is refused', () => {
    expect(errorOf(() => parseConfig('clusters:\n  - proxmox: { host: x }\n'))).toContain('clusters[0].name');
  });
});

describe('selectCluster (the CLI --cluster option)', () => {
  const config = parseConfig(twoClusters);

  it('picks the named cluster', () => {
    expect(selectCluster(config, 'west').config.proxmox.host).toBe('pve-west.lan');
  });

  it('asks for --cluster when the config has several', () => {
    expect(errorOf(() => selectCluster(config, undefined))).toBe(
      'config error: clusters: the config names several clusters (east, west); choose one with --cluster NAME',
    );
  });

  it('refuses a name the config does not have, listing those it has', () => {
    expect(errorOf(() => selectCluster(config, 'north'))).toBe(
      'config error: clusters: --cluster north: no such cluster in the config; it has east, west',
    );
  });

  it('a single-cluster config takes its own name, or none', () => {
    const single = parseConfig('cluster: { name: lab }\n');
    expect(selectCluster(single, undefined).name).toBe('lab');
    expect(selectCluster(single, 'lab').name).toBe('lab');
    expect(errorOf(() => selectCluster(single, 'pve'))).toContain('it has lab');
  });
});

it('redactConfig masks every cluster entry secret', () => {
  const text = JSON.stringify(redactConfig(parseConfig(twoClusters)));
  expect(text).not.toContain(SECRET_A);
  expect(text).not.toContain(SECRET_B);
});
