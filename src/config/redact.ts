// A config safe to print or log: every secret replaced by '***', nothing read from the environment.

import { REDACTED, SECRET_PATHS } from './secrets';
import type { Config } from './schema';

export function redactConfig(config: Config): Config {
  const copy = structuredClone(config);
  for (const entry of copy.clusters ?? []) redactIn(entry);
  redactIn(copy);
  for (const sink of Object.values(copy.alerts.sinks)) {
    if (sink.type === 'smtp' && sink.password !== undefined) sink.password = REDACTED;
    // A webhook's headers are most often its receiver's credentials (Authorization, a token).
    if (sink.type === 'webhook') {
      for (const name of Object.keys(sink.headers)) sink.headers[name] = REDACTED;
    }
  }
  return copy;
}

function redactIn(copy: object): void {
  for (const path of SECRET_PATHS) {
    let here: unknown = copy;
    for (const key of path.slice(0, -1)) {
      here = here !== null && typeof here === 'object' ? (here as Record<string, unknown>)[key] : undefined;
    }
    const last = path[path.length - 1] as string;
    if (here !== null && typeof here === 'object' && (here as Record<string, unknown>)[last] !== undefined) {
      (here as Record<string, unknown>)[last] = REDACTED;
    }
  }
}
