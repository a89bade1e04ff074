// The Temporal CLI lookup order, with fake binaries: TEMPORAL_CLI, PATH, the cache, then provisioning.
import { chmod, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { cacheDir, ensureTemporalCli, TemporalCliError } from '../../scripts/temporal-cli';

let root: string;
const logs: string[] = [];
const log = (line: string) => logs.push(line);

async function fakeCli(dir: string, works = true): Promise<string> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, 'temporal');
  await writeFile(path, works ? '#!/bin/sh\necho "temporal version 1.5.1"\n' : '#!/bin/sh\nexit 3\n');
  await chmod(path, 0o755);
  return path;
}

/** An environment with nothing on PATH but what the test puts there, a private cache, and no network. */
function isolatedEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    PATH: join(root, 'empty-path'),
    PVE_AUTOPILOT_CACHE_DIR: join(root, 'cache'),
    TEMPORAL_CLI_RELEASE_URL: 'http://127.0.0.1:9/temporal.tar.gz',
    ...extra,
  };
}

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'temporal-cli-test-'));
  logs.length = 0;
});

describe('ensureTemporalCli', () => {
  it('uses TEMPORAL_CLI when it runs', async () => {
    const path = await fakeCli(join(root, 'explicit'));
    expect(await ensureTemporalCli({ env: isolatedEnv({ TEMPORAL_CLI: path }), log })).toBe(path);
  });

  it('refuses a TEMPORAL_CLI that does not run, naming it', async () => {
    const path = await fakeCli(join(root, 'broken'), false);
    await expect(ensureTemporalCli({ env: isolatedEnv({ TEMPORAL_CLI: path }), log })).rejects.toThrow(
      `TEMPORAL_CLI=${path} does not run`,
    );
  });

  it('prefers temporal on PATH over the cache', async () => {
    const onPath = await fakeCli(join(root, 'bin'));
    const env = isolatedEnv({ PATH: join(root, 'bin') });
    await fakeCli(cacheDir(env));
    expect(await ensureTemporalCli({ env, log })).toBe(onPath);
  });

  it('uses the cached copy keyed by version', async () => {
    const env = isolatedEnv();
    const cached = await fakeCli(cacheDir(env));
    expect(cached).toContain(join('temporal-cli', 'v1.5.1'));
    expect(await ensureTemporalCli({ env, log })).toBe(cached);
    expect(logs).toEqual([]);
  });

  it('when nothing works, fails fast with an error that says what to install', async () => {
    const started = Date.now();
    const err = await ensureTemporalCli({ env: isolatedEnv(), log }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TemporalCliError);
    expect((err as Error).message).toMatch(/put `temporal` on PATH.*TEMPORAL_CLI.*install Go 1\.25\+/);
    expect(logs.join('\n')).toMatch(/release download unavailable/);
    expect(logs.join('\n')).toMatch(/Go is not installed/);
    expect(Date.now() - started).toBeLessThan(20_000);
  });
});
