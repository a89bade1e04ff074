// From YAML text and an environment to a validated config: pure, no file or process access.

import { parseDocument } from 'yaml';
import { applyEnvOverrides, type Env } from './env';
import { ConfigError, problemsFromIssues } from './errors';
import { configSchema, type Config } from './schema';

export interface ParseOptions {
  /** Where the text came from, for YAML syntax errors. */
  source?: string;
}

export function parseConfig(yamlText: string, env: Env = {}, options: ParseOptions = {}): Config {
  const doc = parseDocument(yamlText, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const source = options.source ?? 'config';
    throw new ConfigError(
      doc.errors.map((e) => ({ path: '', message: `${source}: invalid YAML: ${firstLine(e.message)}` })),
    );
  }
  return validateConfig(toPlain(doc, options.source ?? 'config'), env);
}

/** An alias bomb (aliases of aliases, billions of nodes) is a bad file, refused as such. */
function toPlain(doc: ReturnType<typeof parseDocument>, source: string): unknown {
  try {
    return doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) as unknown;
  } catch (err) {
    if (!(err instanceof ReferenceError)) throw err;
    throw new ConfigError([
      {
        path: '',
        message: `${source}: invalid YAML: too many aliases expand (more than ${MAX_ALIAS_COUNT} per alias); write the values out`,
      },
    ]);
  }
}

const MAX_ALIAS_COUNT = 100;

/** Validates a value already read (e.g. from JSON), after applying the environment overrides. */
export function validateConfig(raw: unknown, env: Env = {}): Config {
  // An empty file is a file that sets nothing.
  const { raw: merged, sources } = applyEnvOverrides(raw ?? {}, env);
  // reportInput keeps the value a cross-field check saw, to show a default that conflicts.
  const result = configSchema.safeParse(merged, { reportInput: true });
  if (result.success) return result.data;
  throw new ConfigError(problemsFromIssues(result.error.issues, merged, configSchema, sources));
}

export function defaultConfig(): Config {
  return validateConfig({});
}

function firstLine(message: string): string {
  // yaml's pretty errors end the first line with a colon that introduces a source excerpt.
  return (message.split('\n')[0] ?? message).replace(/:\s*$/, '');
}
