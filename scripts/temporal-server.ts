// Finds or builds the self-hosted Temporal server and its SQL schema tool for `npm run stack:prod`,
// the way temporal-cli.ts provisions the CLI: `go install` of a pinned tag into the per-user cache,
// once, with progress. The module's PostgreSQL schema files and sample configs are copied beside the
// binaries, so the stack needs neither Go nor the module cache after the first build.
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { cacheRoot, goVersion } from './temporal-cli';

const run = promisify(execFile);

/** Pinned with the CLI: temporalio/server images and docker-compose.yml use the same tag. */
export const TEMPORAL_SERVER_VERSION = '1.29.1';
const MODULE = 'go.temporal.io/server';
const PACKAGES = [`${MODULE}/cmd/server`, `${MODULE}/cmd/tools/sql`];
const MIN_GO = [1, 25] as const; // the module's go.mod says go 1.25.0

type Log = (line: string) => void;
const defaultLog: Log = (line) => process.stderr.write(`[temporal-server] ${line}\n`);

export class TemporalServerError extends Error {
  override name = 'TemporalServerError';
}

export interface TemporalServerFiles {
  /** The server binary (`go install .../cmd/server`, renamed). */
  server: string;
  /** The SQL schema tool (`.../cmd/tools/sql`, renamed as in the official images). */
  sqlTool: string;
  /** schema/postgresql/v12 of the module: temporal/ and visibility/, each with versioned/. */
  schemaDir: string;
  /** config/development-postgres12.yaml of the module, the base of the stack's server config. */
  configTemplate: string;
  /** config/dynamicconfig/development-sql.yaml of the module. */
  dynamicConfigTemplate: string;
}

export function serverCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(cacheRoot(env), 'temporal-server', `v${TEMPORAL_SERVER_VERSION}`);
}

function filesIn(dir: string): TemporalServerFiles {
  return {
    server: join(dir, 'temporal-server'),
    sqlTool: join(dir, 'temporal-sql-tool'),
    schemaDir: join(dir, 'schema', 'postgresql', 'v12'),
    configTemplate: join(dir, 'config', 'development-postgres12.yaml'),
    dynamicConfigTemplate: join(dir, 'config', 'dynamicconfig', 'development-sql.yaml'),
  };
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function complete(files: TemporalServerFiles): Promise<boolean> {
  for (const path of Object.values(files)) if (!(await exists(path))) return false;
  return true;
}

/** The module's source directory in the Go module cache (downloaded when missing). */
async function moduleDir(env: NodeJS.ProcessEnv): Promise<string> {
  const { stdout } = await run('go', ['mod', 'download', '-json', `${MODULE}@v${TEMPORAL_SERVER_VERSION}`], {
    env,
    timeout: 10 * 60_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  const dir = (JSON.parse(stdout) as { Dir?: string }).Dir;
  if (!dir) throw new TemporalServerError(`go mod download gave no directory for ${MODULE}`);
  return dir;
}

async function build(dir: string, env: NodeJS.ProcessEnv, log: Log): Promise<void> {
  const version = await goVersion(env);
  if (!version) {
    throw new TemporalServerError(
      `Go is not installed; it builds the Temporal server (go install ${PACKAGES[0]}@v${TEMPORAL_SERVER_VERSION}). ` +
        `Install Go ${MIN_GO.join('.')}+ (https://go.dev/dl/), or use docker-compose.yml instead.`,
    );
  }
  if (version[0] < MIN_GO[0] || (version[0] === MIN_GO[0] && version[1] < MIN_GO[1])) {
    throw new TemporalServerError(
      `Go ${version.join('.')} is too old to build the Temporal server v${TEMPORAL_SERVER_VERSION} (needs ${MIN_GO.join('.')}+)`,
    );
  }
  log(
    `building the Temporal server v${TEMPORAL_SERVER_VERSION} and its SQL tool with Go: several minutes, once`,
  );
  const gobin = await mkdtemp(join(tmpdir(), 'temporal-server-gobin-'));
  const started = Date.now();
  const ticker = setInterval(
    () => log(`still building (${Math.round((Date.now() - started) / 1000)} s)`),
    30_000,
  );
  try {
    // nice: the build takes every core for minutes; whatever else runs here stays responsive.
    await run(
      'nice',
      ['-n', '10', 'go', 'install', ...PACKAGES.map((p) => `${p}@v${TEMPORAL_SERVER_VERSION}`)],
      {
        env: { ...env, GOBIN: gobin, CGO_ENABLED: '0' },
        maxBuffer: 64 * 1024 * 1024,
        timeout: 60 * 60_000,
      },
    );
    await mkdir(dir, { recursive: true });
    await rename(join(gobin, 'server'), join(dir, 'temporal-server'));
    await rename(join(gobin, 'sql'), join(dir, 'temporal-sql-tool'));
    log(`built in ${Math.round((Date.now() - started) / 1000)} s`);
  } catch (err) {
    if (err instanceof TemporalServerError) throw err;
    const stderr = (err as { stderr?: string }).stderr ?? (err as Error).message;
    throw new TemporalServerError(`go install failed:\n${stderr.trim().split('\n').slice(-15).join('\n')}`);
  } finally {
    clearInterval(ticker);
    await rm(gobin, { recursive: true, force: true });
  }
}

/** Returns the server files, building and copying whatever is missing from the cache. */
export async function ensureTemporalServer(
  opts: { env?: NodeJS.ProcessEnv; log?: Log } = {},
): Promise<TemporalServerFiles> {
  const env = opts.env ?? process.env;
  const log = opts.log ?? defaultLog;
  const dir = serverCacheDir(env);
  const files = filesIn(dir);
  if (await complete(files)) return files;

  if (!(await exists(files.server)) || !(await exists(files.sqlTool))) await build(dir, env, log);
  const source = await moduleDir(env);
  await cp(join(source, 'schema', 'postgresql', 'v12'), files.schemaDir, { recursive: true });
  await mkdir(join(dir, 'config', 'dynamicconfig'), { recursive: true });
  await cp(join(source, 'config', 'development-postgres12.yaml'), files.configTemplate);
  await cp(join(source, 'config', 'dynamicconfig', 'development-sql.yaml'), files.dynamicConfigTemplate);
  log(`ready: ${dir}`);
  return files;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  ensureTemporalServer()
    .then((files) => console.log(JSON.stringify(files, null, 2)))
    .catch((err: unknown) => {
      defaultLog(err instanceof Error ? err.message : String(err));
      process.exit(1);
    });
}
