// Finds or provisions the Temporal CLI (which embeds the dev server), so `npm start` and `npm test`
// work on a machine that has none. Order: $TEMPORAL_CLI, `temporal` on PATH, the per-user cache,
// the official release archive, then `go install` of a pinned tag.
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rename, rm, stat, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const TEMPORAL_CLI_VERSION = '1.5.1';
/** Newest tag whose go.mod has no replace directive, so a plain `go install` builds it. */
const GO_MODULE = `github.com/temporalio/cli/cmd/temporal@v${TEMPORAL_CLI_VERSION}`;
const MIN_GO = [1, 25] as const;

type Log = (line: string) => void;
const defaultLog: Log = (line) => process.stderr.write(`[temporal-cli] ${line}\n`);

export class TemporalCliError extends Error {
  override name = 'TemporalCliError';
}

/** The per-user cache of provisioned binaries (the CLI here, the server in temporal-server.ts). */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  return (
    env.PVE_AUTOPILOT_CACHE_DIR ?? join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'pve-autopilot')
  );
}

export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(cacheRoot(env), 'temporal-cli', `v${TEMPORAL_CLI_VERSION}`);
}

const binaryName = process.platform === 'win32' ? 'temporal.exe' : 'temporal';

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** Runs `temporal --version`; returns its first line, or null when the binary does not work. */
async function versionOf(path: string): Promise<string | null> {
  try {
    const { stdout } = await run(path, ['--version'], { timeout: 15_000 });
    return stdout.trim().split('\n')[0] ?? '';
  } catch {
    return null;
  }
}

async function onPath(env: NodeJS.ProcessEnv): Promise<string | null> {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir && (await isFile(join(dir, binaryName)))) return join(dir, binaryName);
  }
  return null;
}

function releaseUrl(env: NodeJS.ProcessEnv): string | null {
  if (env.TEMPORAL_CLI_RELEASE_URL) return env.TEMPORAL_CLI_RELEASE_URL; // a mirror, for closed networks
  const os = { linux: 'linux', darwin: 'darwin', win32: 'windows' }[process.platform as string];
  const arch = { x64: 'amd64', arm64: 'arm64' }[process.arch as string];
  if (!os || !arch) return null;
  const ext = os === 'windows' ? 'zip' : 'tar.gz';
  return `https://github.com/temporalio/cli/releases/download/v${TEMPORAL_CLI_VERSION}/temporal_cli_${TEMPORAL_CLI_VERSION}_${os}_${arch}.${ext}`;
}

async function download(target: string, env: NodeJS.ProcessEnv, log: Log): Promise<boolean> {
  const url = releaseUrl(env);
  if (!url || url.endsWith('.zip')) return false;
  log(`downloading the Temporal CLI v${TEMPORAL_CLI_VERSION} release archive`);
  const work = await mkdtemp(join(tmpdir(), 'temporal-cli-'));
  try {
    // A machine without internet fails at DNS or connect within seconds; a slow mirror gets longer.
    const res = await fetch(url, { signal: AbortSignal.timeout(120_000) });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const archive = join(work, 'temporal.tar.gz');
    await writeFile(archive, Buffer.from(await res.arrayBuffer()));
    await run('tar', ['-xzf', archive, '-C', work, binaryName]);
    await chmod(join(work, binaryName), 0o755);
    await rename(join(work, binaryName), target);
    return true;
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
    log(`release download unavailable (${cause}); trying Go next`);
    return false;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

export async function goVersion(env: NodeJS.ProcessEnv): Promise<[number, number] | null> {
  try {
    const { stdout } = await run('go', ['env', 'GOVERSION'], { timeout: 30_000, env });
    const m = /^go(\d+)\.(\d+)/.exec(stdout.trim());
    return m ? [Number(m[1]), Number(m[2])] : null;
  } catch {
    return null;
  }
}

async function buildWithGo(target: string, env: NodeJS.ProcessEnv, log: Log): Promise<boolean> {
  const version = await goVersion(env);
  if (!version) {
    log('Go is not installed; cannot build the Temporal CLI from source');
    return false;
  }
  if (version[0] < MIN_GO[0] || (version[0] === MIN_GO[0] && version[1] < MIN_GO[1])) {
    log(`Go ${version.join('.')} is too old to build the Temporal CLI (needs ${MIN_GO.join('.')} or newer)`);
    return false;
  }
  log(`building the Temporal CLI v${TEMPORAL_CLI_VERSION} with Go: a few minutes, once`);
  const gobin = await mkdtemp(join(tmpdir(), 'temporal-gobin-'));
  const started = Date.now();
  const ticker = setInterval(
    () => log(`still building (${Math.round((Date.now() - started) / 1000)} s)`),
    30_000,
  );
  try {
    await run('go', ['install', GO_MODULE], {
      env: { ...env, GOBIN: gobin, CGO_ENABLED: '0' },
      maxBuffer: 64 * 1024 * 1024,
      timeout: 30 * 60_000,
    });
    await rename(join(gobin, binaryName), target);
    log(`built in ${Math.round((Date.now() - started) / 1000)} s`);
    return true;
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? (err as Error).message;
    log(`go install failed:\n${stderr.trim().split('\n').slice(-15).join('\n')}`);
    return false;
  } finally {
    clearInterval(ticker);
    await rm(gobin, { recursive: true, force: true });
  }
}

/** Returns the path of a working Temporal CLI, provisioning it into the cache when needed. */
export async function ensureTemporalCli(opts: { env?: NodeJS.ProcessEnv; log?: Log } = {}): Promise<string> {
  const env = opts.env ?? process.env;
  const log = opts.log ?? defaultLog;

  if (env.TEMPORAL_CLI) {
    if (await versionOf(env.TEMPORAL_CLI)) return env.TEMPORAL_CLI;
    throw new TemporalCliError(
      `TEMPORAL_CLI=${env.TEMPORAL_CLI} does not run (\`${env.TEMPORAL_CLI} --version\` failed); fix or unset it`,
    );
  }
  const fromPath = await onPath(env);
  if (fromPath && (await versionOf(fromPath))) return fromPath;

  const dir = cacheDir(env);
  const cached = join(dir, binaryName);
  if ((await isFile(cached)) && (await versionOf(cached))) return cached;

  await mkdir(dir, { recursive: true });
  log(`no Temporal CLI found; provisioning v${TEMPORAL_CLI_VERSION} into ${dir}`);
  if ((await download(cached, env, log)) || (await buildWithGo(cached, env, log))) {
    const version = await versionOf(cached);
    if (version) {
      log(`ready: ${cached} (${version})`);
      return cached;
    }
    await rm(cached, { force: true });
    log('the provisioned binary does not run; removed it');
  }
  throw new TemporalCliError(
    `could not provision the Temporal CLI v${TEMPORAL_CLI_VERSION}. Do one of: install it ` +
      `(https://docs.temporal.io/cli) and put \`temporal\` on PATH; set TEMPORAL_CLI to its path; ` +
      `or install Go ${MIN_GO.join('.')}+ so it can be built with \`go install ${GO_MODULE}\`.`,
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const started = Date.now();
  ensureTemporalCli()
    .then((path) => {
      console.log(path);
      defaultLog(`resolved in ${Date.now() - started} ms`);
    })
    .catch((err: unknown) => {
      defaultLog(err instanceof Error ? err.message : String(err));
      process.exit(1);
    });
}
