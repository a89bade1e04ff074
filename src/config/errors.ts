// Turns validation issues into one line per problem: the field path, what was expected, and what
// was found (never a secret's value), e.g.
//   config error: manager.thresholds.migratePercent: expected a number between 0 and 100, got "abc"

import { z } from 'zod';
import { isSecretPath } from './secrets';

export interface ConfigProblem {
  /** Dotted path of the field, e.g. `generator.memoryChoicesMiB[1]`; empty for the file itself. */
  path: string;
  message: string;
}

export class ConfigError extends Error {
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[]) {
    super(problems.map((p) => `config error: ${p.path === '' ? '' : `${p.path}: `}${p.message}`).join('\n'));
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out;
}

/**
 * @param raw the input as read (YAML plus environment), to show what was found at a path.
 * @param envSources dotted path → environment variable, for fields the environment set.
 */
export function problemsFromIssues(
  issues: readonly z.core.$ZodIssue[],
  raw: unknown,
  schema: z.ZodType,
  envSources: Readonly<Record<string, string>>,
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      const allowed = allowedKeysAt(schema, issue.path);
      for (const key of issue.keys) {
        const path = formatPath([...issue.path, key]);
        problems.push({ path, message: MOVED[path] ?? unknownKeyMessage(key, allowed) });
      }
      continue;
    }
    const path = formatPath(issue.path);
    const variable = envSourceOf(path, envSources);
    const hidden = isSecretPath(issue.path) && valueAt(raw, issue.path) !== undefined;
    const found = hidden ? 'a value that is not shown (secret)' : foundValue(issue, raw);
    problems.push({
      path: variable === undefined ? path : `${path} (from ${variable})`,
      message: `${issue.message}, got ${found}`,
    });
  }
  return problems;
}

/** What the file or environment gave; for a cross-field check on a default, that default. */
function foundValue(issue: z.core.$ZodIssue, raw: unknown): string {
  const given = valueAt(raw, issue.path);
  // Cross-field checks pass the field's own value, which may be a default the reader never wrote.
  if (given === undefined && issue.code === 'custom' && issue.input !== undefined) {
    return `${describe(issue.input)} (the default)`;
  }
  return describe(given);
}

function envSourceOf(path: string, envSources: Readonly<Record<string, string>>): string | undefined {
  for (const [source, variable] of Object.entries(envSources)) {
    if (path === source || path.startsWith(`${source}.`)) return variable;
  }
  return undefined;
}

export function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let here: unknown = raw;
  for (const key of path) {
    if (here === null || typeof here !== 'object') return undefined;
    here = (here as Record<PropertyKey, unknown>)[key];
  }
  return here;
}

export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null (an empty value)';
  if (typeof value === 'string') {
    const shown = value.length > 60 ? `${value.slice(0, 57)}...` : value;
    return JSON.stringify(shown);
  }
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return String(value);
}

/** Settings that moved when the lab's policy became a rule of its own: say where they went. */
const MOVED: Readonly<Record<string, string>> = {
  'manager.thresholds': 'moved: set lab.migratePercent and lab.dropPercent instead',
  'manager.migrateChoice': 'moved: set lab.migrateChoice instead',
  'manager.dropMode': 'moved: set lab.dropMode instead',
};

function unknownKeyMessage(key: string, allowed: readonly string[]): string {
  const close = allowed
    .map((candidate) => ({ candidate, distance: editDistance(key.toLowerCase(), candidate.toLowerCase()) }))
    .filter(
      (c) =>
        c.distance <= Math.max(2, Math.floor(c.candidate.length / 3)) ||
        // A shortened name ("cert" for "certFile") is as clear a hint as a typo.
        (key.length >= 3 && c.candidate.toLowerCase().startsWith(key.toLowerCase())),
    )
    .sort((a, b) => a.distance - b.distance)[0];
  if (close) return `unknown setting; did you mean "${close.candidate}"?`;
  return allowed.length > 0 ? `unknown setting; expected one of ${allowed.join(', ')}` : 'unknown setting';
}

/** The keys an object schema accepts at a path, to suggest the one a typo meant. */
function allowedKeysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let here: z.ZodType | undefined = schema;
  for (const key of path) {
    here = here === undefined ? undefined : childOf(unwrap(here), key);
  }
  const target = here === undefined ? undefined : unwrap(here);
  return target instanceof z.ZodObject ? Object.keys(target.shape) : [];
}

function unwrap(schema: z.ZodType): z.ZodType {
  let here = schema;
  // default, prefault and optional wrap the schema that has the shape.
  for (;;) {
    const def = here._zod.def as { innerType?: z.ZodType };
    if (def.innerType === undefined) return here;
    here = def.innerType;
  }
}

function childOf(schema: z.ZodType, key: PropertyKey): z.ZodType | undefined {
  if (schema instanceof z.ZodObject) return (schema.shape as Record<PropertyKey, z.ZodType>)[key];
  if (schema instanceof z.ZodRecord) return schema._zod.def.valueType as z.ZodType;
  if (schema instanceof z.ZodArray) return schema._zod.def.element as z.ZodType;
  return undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
