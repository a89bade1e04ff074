// The config `npm start -- --sim-scenario S` writes fits S: it parses, its scope manages the
// scenario's containers as the API lists them, the generator can place a container, and the lab
// rule does not start by destroying the scenario's containers. The lab's config, written for every
// scenario before, managed nothing on zones-6node or fleet-large and left the generator waiting.
import { describe, expect, it } from 'vitest';
import { generatorPolicyOf, coreSettingsOf, parseConfig, ruleConfigsOf } from '../../src/config';
import { isManaged } from '../../src/domain';
import { emptyCore, planProvision, ruleRegistry, step, type EnabledRule } from '../../src/policy';
import { toClusterSnapshot } from '../../src/proxmox';
import { loadScenario } from '../../simulator/index';
import { stackConfigText, stackSettingsFor } from '../../scripts/lib/stack-config';
import { startTestSim } from '../support/sim';

const SCENARIOS = ['lab-2node', 'lab-2node-autoscale', 'zones-6node', 'fleet-large'];

describe('the config npm start writes for a pve-sim scenario', () => {
  for (const name of SCENARIOS) {
    it(`${name}: parses, manages its containers, and lets the generator place`, async () => {
      const test = await startTestSim({ scenario: name, clock: { mode: 'manual' } });
      try {
        const spec = loadScenario(name, 1);
        const text = stackConfigText(
          {
            temporalAddress: '127.0.0.1:7433',
            uiUrl: 'http://127.0.0.1:8433',
            host: test.sim.host,
            port: test.sim.port,
            tokenId: test.sim.token.id,
            tokenSecret: test.sim.token.secret,
            caFile: test.sim.caFile,
          },
          spec,
        );
        const config = parseConfig(text, {}, { source: 'pve-autopilot.yaml' });
        const snapshot = toClusterSnapshot(await test.pve.clusterResources(), Date.now());
        const managed = snapshot.containers.filter((ct) => isManaged(ct, coreSettingsOf(config).scope));
        const range = spec.managedRange ?? { min: 1400, max: 1499 };
        const inRange = spec.containers.filter((c) => c.vmid >= range.min && c.vmid <= range.max);
        expect(inRange.length).toBeGreaterThan(0);
        expect(managed.map((c) => c.vmid).sort()).toEqual(inRange.map((c) => c.vmid).sort());

        const policy = generatorPolicyOf(config);
        const placed = [0, 0.25, 0.5, 0.75, 0.99].map((u) =>
          planProvision(snapshot, policy, { node: u, memory: 0 }),
        );
        for (const p of placed) expect(p?.node, JSON.stringify(policy)).toBeDefined();

        // The first round of the rules the config enables destroys nothing of the scenario.
        const configs = ruleConfigsOf(config);
        const rules: EnabledRule[] = Object.entries(ruleRegistry).map(([rule, r]) => ({
          rule: r,
          config: configs[rule as keyof typeof configs],
        }));
        const round = step({
          core: emptyCore(1),
          settings: coreSettingsOf(config),
          automation: 'auto',
          rules,
          snapshot,
          cycle: 1,
          evaluate: true,
          now: Date.now(),
          outcomes: [],
        });
        expect(round.commands.filter((c) => c.action.kind === 'drop')).toEqual([]);

        expect(config.zones).toEqual(stackSettingsFor(spec).zones ?? {});
      } finally {
        await test.stop();
      }
    });
  }

  it('writes the zones of zones-6node as zone name → node names', () => {
    expect(stackSettingsFor(loadScenario('zones-6node', 1)).zones).toEqual({
      'zone-a': ['pve-a1', 'pve-a2'],
      'zone-b': ['pve-b1', 'pve-b2'],
      'zone-c': ['pve-c1', 'pve-c2'],
    });
    expect(stackSettingsFor(loadScenario('lab-2node', 1)).zones).toBeUndefined();
  });

  it('keeps the lab defaults for the lab scenario', () => {
    const config = parseConfig(
      stackConfigText(
        {
          temporalAddress: 'h:1',
          uiUrl: 'http://h:2',
          host: 'h',
          port: 1,
          tokenId: 'root@pam!x',
          tokenSecret: '12345678-1234-1234-1234-1234567890ab',
          caFile: '/ca',
        },
        loadScenario('lab-2node', 1),
      ),
      {},
    );
    const defaults = parseConfig('', {});
    expect([config.scope, config.generator, config.lab]).toEqual([
      defaults.scope,
      defaults.generator,
      defaults.lab,
    ]);
  });
});
