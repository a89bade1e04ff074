// Field schemas that carry the one message a reader needs: what was expected. The formatter adds
// the field path and what was found, so every rejection reads the same way.

import { z } from 'zod';

export function numberBetween(min: number, max: number) {
  const error = `expected a number between ${min} and ${max}`;
  return z.number({ error }).min(min, { error }).max(max, { error });
}

export function integerBetween(min: number, max: number) {
  const error = `expected an integer between ${min} and ${max}`;
  return z.number({ error }).int({ error }).min(min, { error }).max(max, { error });
}

export function positiveNumber(max = Number.MAX_SAFE_INTEGER) {
  const error = `expected a number greater than 0${max < Number.MAX_SAFE_INTEGER ? ` and at most ${max}` : ''}`;
  return z.number({ error }).positive({ error }).max(max, { error });
}

/** A fraction of a whole, such as a share of a node's memory. */
export function share() {
  const error = 'expected a number greater than 0 and at most 1';
  return z.number({ error }).positive({ error }).max(1, { error });
}

export function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: `expected one of ${values.join(', ')}` });
}

export function nonEmptyText(what = 'a non-empty string') {
  const error = `expected ${what}`;
  return z.string({ error }).trim().min(1, { error });
}

export function matching(pattern: RegExp, what: string) {
  const error = `expected ${what}`;
  return z.string({ error }).regex(pattern, { error });
}

export function flag() {
  return z.boolean({ error: 'expected true or false' });
}

/** A YAML mapping: the message names what the section should be, not "object". */
export function section<T extends z.core.$ZodLooseShape>(shape: T) {
  return z.strictObject(shape, { error: 'expected a mapping of settings' });
}

/**
 * Reports a cross-field problem on one field. The value is set explicitly (even undefined) so the
 * message shows the field's own value, which may be a default, not the whole section.
 */
export function reject<T>(
  ctx: z.core.$RefinementCtx<T>,
  field: string | undefined,
  message: string,
  value: unknown,
): void {
  ctx.addIssue({ code: 'custom', path: field === undefined ? [] : [field], message, input: value });
}

/** Cross-field checks compare valid values only: a bad field is reported once, by its own check. */
export const whenFieldsValid: z.core.$ZodSuperRefineParams = {
  when: (payload) => payload.issues.length === 0,
};
