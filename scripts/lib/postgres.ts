// A private PostgreSQL cluster for the production-shaped stack: the machine's packaged binaries,
// a data directory of the stack's own, TCP on 127.0.0.1 only, a password for the one role. The
// server never runs as root (PostgreSQL refuses to): under root it runs as the `postgres` user.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chown, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const PG_ROLE = 'temporal';

type Log = (line: string) => void;

export class PostgresError extends Error {
  override name = 'PostgresError';
}

export interface PostgresCluster {
  dataDir: string;
  port: number;
  user: string;
  password: string;
  logFile: string;
  /** pg_ctl of the packaged version. */
  binDir: string;
}

interface RunAs {
  uid: number;
  gid: number;
  name: string;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** Debian puts the binaries in /usr/lib/postgresql/<major>/bin; elsewhere they are on PATH. */
async function findBinDir(): Promise<string | null> {
  const debian = '/usr/lib/postgresql';
  const majors = (await readdir(debian).catch(() => [] as string[]))
    .filter((d) => /^\d+$/.test(d))
    .sort((a, b) => Number(b) - Number(a));
  for (const major of majors) {
    if (await exists(join(debian, major, 'bin', 'pg_ctl'))) return join(debian, major, 'bin');
  }
  try {
    const { stdout } = await run('pg_config', ['--bindir']);
    const dir = stdout.trim();
    if (await exists(join(dir, 'pg_ctl'))) return dir;
  } catch {
    // no pg_config either
  }
  return null;
}

const INSTALL_HINT =
  'PostgreSQL is not installed. Install the server package (Debian/Ubuntu: `apt-get install -y postgresql`; ' +
  'Fedora: `dnf install postgresql-server`; macOS: `brew install postgresql`), or run docker-compose.yml instead.';

/** apt-get, retried while another apt/dpkg holds the lock. */
async function aptInstall(log: Log): Promise<void> {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (let attempt = 1; ; attempt++) {
    try {
      log("PostgreSQL is missing; installing Debian's `postgresql` package (apt-get)");
      await run('apt-get', ['update'], { env, timeout: 10 * 60_000, maxBuffer: 64 * 1024 * 1024 });
      await run('apt-get', ['install', '-y', 'postgresql'], {
        env,
        timeout: 20 * 60_000,
        maxBuffer: 64 * 1024 * 1024,
      });
      return;
    } catch (err) {
      const stderr = String((err as { stderr?: string }).stderr ?? (err as Error).message);
      if (/lock/i.test(stderr) && attempt < 30) {
        log('apt/dpkg is busy (another install holds its lock); retrying in 10 s');
        await new Promise((r) => setTimeout(r, 10_000));
        continue;
      }
      throw new PostgresError(
        `apt-get install postgresql failed: ${stderr.trim().split('\n').slice(-5).join('\n')}`,
      );
    }
  }
}

/** The packaged binaries; as root on Debian, installs the package when it is missing. */
export async function ensurePostgresBinaries(log: Log): Promise<string> {
  const found = await findBinDir();
  if (found) return found;
  const canApt = process.getuid?.() === 0 && (await exists('/usr/bin/apt-get'));
  if (!canApt) throw new PostgresError(INSTALL_HINT);
  await aptInstall(log);
  const installed = await findBinDir();
  if (!installed) throw new PostgresError(`the postgresql package installed no pg_ctl. ${INSTALL_HINT}`);
  return installed;
}

async function runAsUser(): Promise<RunAs | null> {
  if (process.getuid?.() !== 0) return null;
  try {
    const uid = Number((await run('id', ['-u', 'postgres'])).stdout.trim());
    const gid = Number((await run('id', ['-g', 'postgres'])).stdout.trim());
    return { uid, gid, name: 'postgres' };
  } catch {
    throw new PostgresError(
      'running as root, and there is no `postgres` user to run PostgreSQL as (the package creates it); ' +
        'create one or run the stack as an ordinary user',
    );
  }
}

async function pgRun(
  cluster: Pick<PostgresCluster, 'binDir'>,
  tool: string,
  args: string[],
  as: RunAs | null,
): Promise<string> {
  try {
    const { stdout } = await run(join(cluster.binDir, tool), args, {
      ...(as ? { uid: as.uid, gid: as.gid } : {}),
      // initdb and pg_ctl look at HOME and the cwd; give them one the postgres user can read.
      cwd: '/',
      env: { ...process.env, ...(as ? { HOME: '/' } : {}), LC_ALL: 'C.UTF-8' },
      timeout: 120_000,
    });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; message: string };
    throw new PostgresError(`${tool} ${args[0] ?? ''} failed: ${(e.stderr || e.stdout || e.message).trim()}`);
  }
}

/**
 * Creates the cluster on first use (initdb, with a generated password kept in `passwordFile`), and
 * returns how to reach it. The data directory is owned by the user PostgreSQL runs as.
 */
export async function preparePostgres(opts: {
  dataDir: string;
  passwordFile: string;
  logFile: string;
  port: number;
  log: Log;
}): Promise<PostgresCluster> {
  const binDir = await ensurePostgresBinaries(opts.log);
  const as = await runAsUser();
  const owned = async (path: string) => {
    if (as) await chown(path, as.uid, as.gid);
  };
  const cluster: PostgresCluster = {
    dataDir: opts.dataDir,
    port: opts.port,
    user: PG_ROLE,
    password: '',
    logFile: opts.logFile,
    binDir,
  };
  if (!(await exists(join(opts.dataDir, 'PG_VERSION')))) {
    const password = randomBytes(18).toString('base64url');
    await mkdir(opts.dataDir, { recursive: true, mode: 0o700 });
    await owned(opts.dataDir);
    // initdb reads the password from a file; that file must be readable by the user it runs as.
    const pwfile = join(opts.dataDir, '..', `.pg-init-${process.pid}`);
    await writeFile(pwfile, `${password}\n`, { mode: 0o600 });
    await owned(pwfile);
    opts.log(
      `creating the PostgreSQL cluster in ${opts.dataDir}${as ? ' (owned by the postgres user)' : ''}`,
    );
    try {
      await pgRun(
        cluster,
        'initdb',
        [
          '-D',
          opts.dataDir,
          '-U',
          PG_ROLE,
          `--pwfile=${pwfile}`,
          '--auth=scram-sha-256',
          '-E',
          'UTF8',
          '--locale=C.UTF-8',
        ],
        as,
      );
    } finally {
      await rm(pwfile, { force: true });
    }
    await writeFile(opts.passwordFile, `${password}\n`, { mode: 0o600 });
  }
  cluster.password = (await readFile(opts.passwordFile, 'utf8')).trim();
  await writeFile(opts.logFile, '', { flag: 'a' });
  await owned(opts.logFile);
  return cluster;
}

export async function isPostgresRunning(cluster: PostgresCluster): Promise<boolean> {
  return exists(join(cluster.dataDir, 'postmaster.pid'));
}

/** pg_ctl start -w: returns once the server accepts connections. Listens on 127.0.0.1 only. */
export async function startPostgres(cluster: PostgresCluster): Promise<void> {
  const as = await runAsUser();
  const options = [
    `-p ${cluster.port}`,
    '-c listen_addresses=127.0.0.1',
    // The socket goes in the data dir: /var/run/postgresql may not exist or belong to the system server.
    `-c unix_socket_directories=${cluster.dataDir}`,
    '-c max_connections=200',
  ].join(' ');
  await pgRun(
    cluster,
    'pg_ctl',
    ['start', '-w', '-t', '60', '-D', cluster.dataDir, '-l', cluster.logFile, '-o', options],
    as,
  );
}

/** pg_ctl stop -m fast: ends sessions, checkpoints, and keeps the data. */
export async function stopPostgres(cluster: PostgresCluster): Promise<void> {
  if (!(await isPostgresRunning(cluster))) return;
  const as = await runAsUser();
  await pgRun(cluster, 'pg_ctl', ['stop', '-w', '-t', '60', '-m', 'fast', '-D', cluster.dataDir], as);
}
