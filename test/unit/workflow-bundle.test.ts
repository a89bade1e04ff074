// The key `npm start` names its kept workflow bundle by: a restart on unchanged code reuses the
// bundle, and any change to what goes into it builds anew (a stale bundle would run old workflow
// code against new histories).
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { workflowBundleKey } from '../../scripts/lib/workflow-bundle';

let repo: string;

async function put(path: string, text: string): Promise<void> {
  await mkdir(join(repo, path, '..'), { recursive: true });
  await writeFile(join(repo, path), text);
}

beforeEach(async () => {
  repo = await mkdtemp(join(tmpdir(), 'pve-autopilot-bundle-key-'));
  await put('workflows/index.ts', "export * from './generator';\n");
  await put('workflows/generator.ts', 'export const a = 1;\n');
  await put('src/domain/index.ts', 'export const b = 2;\n');
  await put('activities/proxmox.ts', 'export type C = number;\n');
  await put('package-lock.json', '{"lockfileVersion": 3}\n');
  await put('test/unit/x.test.ts', 'it();\n');
  await put('README.md', '# readme\n');
});

describe('workflowBundleKey', () => {
  it('is the same for the same code', async () => {
    expect(await workflowBundleKey(repo)).toBe(await workflowBundleKey(repo));
  });

  it.each([
    ['a workflow', 'workflows/generator.ts'],
    ['a domain file', 'src/domain/index.ts'],
    ['an activity type', 'activities/proxmox.ts'],
    ['the lockfile (another package version)', 'package-lock.json'],
  ])('changes when %s changes', async (_what, path) => {
    const before = await workflowBundleKey(repo);
    await put(path, 'export const changed = true;\n');
    expect(await workflowBundleKey(repo)).not.toBe(before);
  });

  it('changes when a file is added or moved', async () => {
    const before = await workflowBundleKey(repo);
    await put('src/policy/new-rule.ts', 'export const d = 4;\n');
    const added = await workflowBundleKey(repo);
    expect(added).not.toBe(before);
    await rm(join(repo, 'src/policy/new-rule.ts'));
    await put('src/policy/renamed.ts', 'export const d = 4;\n');
    expect(await workflowBundleKey(repo)).not.toBe(added);
  });

  it('stays the same when only tests or docs change', async () => {
    const before = await workflowBundleKey(repo);
    await put('test/unit/x.test.ts', 'it("more");\n');
    await put('README.md', '# more readme\n');
    expect(await workflowBundleKey(repo)).toBe(before);
  });
});
