// The lint fence around workflows/: Node built-ins and I/O modules are rejected there, allowed elsewhere.
import { describe, expect, it } from 'vitest';
import { ESLint } from 'eslint';

// The fixtures exist only as text; the type-aware parser is told to accept them outside the tsconfig.
const eslint = new ESLint({
  cwd: process.cwd(),
  overrideConfig: {
    files: ['**/lint-fixture.ts'],
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['workflows/lint-fixture.ts', 'activities/lint-fixture.ts'] },
      },
    },
  },
});

async function restrictedImportErrors(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? [])
    .filter((m) => m.ruleId === '@typescript-eslint/no-restricted-imports')
    .map((m) => m.message);
}

describe('workflow sandbox lint rule', { timeout: 60_000 }, () => {
  it.each([
    ["import fs from 'fs';\nexport const x = fs;\n"],
    ["import { readFile } from 'node:fs/promises';\nexport const x = readFile;\n"],
    ["import { createHash } from 'crypto';\nexport const x = createHash;\n"],
    ["import { createPveClient } from '../src/proxmox/client';\nexport const x = createPveClient;\n"],
  ])('rejects %j under workflows/', async (code) => {
    const errors = await restrictedImportErrors('workflows/lint-fixture.ts', code);
    expect(errors.length).toBe(1);
  });

  it('allows type-only imports of activity signatures under workflows/', async () => {
    const code =
      "import type { createSelfCheckActivities } from '../activities/self-check';\nexport type A = typeof createSelfCheckActivities;\n";
    expect(await restrictedImportErrors('workflows/lint-fixture.ts', code)).toEqual([]);
  });

  it('allows @temporalio/workflow and src/domain under workflows/', async () => {
    const code =
      "import { sleep } from '@temporalio/workflow';\nimport type { Action } from '../src/domain';\nexport const x: [typeof sleep, Action | null] = [sleep, null];\n";
    expect(await restrictedImportErrors('workflows/lint-fixture.ts', code)).toEqual([]);
  });

  it('allows Node built-ins outside workflows/', async () => {
    expect(
      await restrictedImportErrors(
        'activities/lint-fixture.ts',
        "import fs from 'fs';\nexport const x = fs;\n",
      ),
    ).toEqual([]);
  });
});
