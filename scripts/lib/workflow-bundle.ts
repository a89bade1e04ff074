// The worker's workflow bundle, kept in the data dir between runs of `npm start`: building it
// (webpack over workflows/ and what they import) is most of a worker's start, and a restart on
// unchanged code needs the same bytes again. The file is named by a hash of everything that can
// go into it, so an edited workflow, domain or policy file, or another SDK version, builds anew.
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

/**
 * What the bundle is made of: the workflows and every repository directory their imports reach
 * (src/ for domain and policy, activities/ for the types they name), the lockfile (every package
 * version), and the SDK's bundler itself.
 */
const SOURCE_DIRS = ['workflows', 'src', 'activities'];
const SOURCE_FILES = ['package-lock.json', 'tsconfig.json'];

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const nested = await Promise.all(
    entries.map((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)])),
  );
  return nested.flat();
}

/** A hash of the bundle's inputs: equal hashes mean an equal bundle. */
export async function workflowBundleKey(repo = REPO): Promise<string> {
  const files = [
    ...(await Promise.all(SOURCE_DIRS.map((d) => filesUnder(join(repo, d))))).flat(),
    ...SOURCE_FILES.map((f) => join(repo, f)),
  ].sort();
  const hash = createHash('sha256');
  const sdk = createRequire(import.meta.url)('@temporalio/worker/package.json') as { version: string };
  hash.update(`sdk ${sdk.version}\n`);
  for (const file of files) {
    const content = await readFile(file).catch(() => null);
    if (content === null) continue;
    hash.update(`${relative(repo, file)}\n${content.length}\n`);
    hash.update(content);
  }
  return hash.digest('hex').slice(0, 16);
}

export interface WorkflowBundle {
  path: string;
  /** False when a bundle of the same code was already there. */
  built: boolean;
  seconds: number;
}

/** The bundle file for the current code in `dir`, built (and older ones removed) when missing. */
export async function ensureWorkflowBundle(dir: string): Promise<WorkflowBundle> {
  const t0 = performance.now();
  const seconds = () => Math.round((performance.now() - t0) / 100) / 10;
  const path = join(dir, `workflow-bundle-${await workflowBundleKey()}.js`);
  if (
    await stat(path).then(
      (s) => s.isFile() && s.size > 0,
      () => false,
    )
  ) {
    return { path, built: false, seconds: seconds() };
  }
  // Loaded only here: a restart on unchanged code never needs the bundler.
  const { bundleWorkflowCode } = await import('@temporalio/worker');
  const { workflowsPath } = await import('../../worker/create-worker');
  const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} };
  const { code } = await bundleWorkflowCode({ workflowsPath, logger: quiet });
  await mkdir(dir, { recursive: true });
  for (const old of await readdir(dir)) {
    if (old.startsWith('workflow-bundle-')) await rm(join(dir, old), { force: true });
  }
  // Written aside and renamed, so a start cut short never leaves half a bundle under the name.
  await writeFile(`${path}.tmp`, code);
  await rename(`${path}.tmp`, path);
  return { path, built: true, seconds: seconds() };
}
