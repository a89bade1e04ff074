// The error PVE answers with: an HTTP status, a message (its first line becomes the reason phrase)
// and, for parameter errors, a per-parameter map.

export class PveError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errors?: Record<string, string>,
  ) {
    super(message);
  }
}

/** A plain PVE failure: HTTP 500 with the message (`die "...\n"` in the Perl sources). */
export function fail(message: string): never {
  throw new PveError(500, message);
}

/** PVE's raise_param_exc: 400 `Parameter verification failed.` with an errors map. */
export function paramError(errors: Record<string, string>): never {
  throw new PveError(400, 'Parameter verification failed.', errors);
}
