// Golden scenarios: each folder under test/scenarios/ is replayed (pve-sim on a manual clock plus the
// manager's step) and its decision log compared with expected.log. `UPDATE_GOLDEN=1` rewrites the
// logs instead; the diff in review then shows what a change does to the manager's decisions.
import { readdirSync, statSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runScenario } from './support/run-scenario';
import { readScenario } from './support/scenario-files';

const root = join(import.meta.dirname);
const names = readdirSync(root)
  .filter((n) => n !== 'support' && statSync(join(root, n)).isDirectory())
  .sort();
const update = process.env.UPDATE_GOLDEN === '1';

describe('golden scenarios', () => {
  it('has at least 12 scenarios', () => {
    expect(names.length).toBeGreaterThanOrEqual(12);
  });

  for (const name of names) {
    it(`${name} decides as expected.log says`, async () => {
      const dir = join(root, name);
      const scenario = await readScenario(dir, name);
      const run = await runScenario(scenario);
      const file = join(dir, 'expected.log');
      if (update) {
        await writeFile(file, run.log);
        return;
      }
      const expected = await readFile(file, 'utf8').catch(() => {
        throw new Error(`${name}: no expected.log yet; run with UPDATE_GOLDEN=1 to write it`);
      });
      expect(run.log).toBe(expected);
    });
  }
});
