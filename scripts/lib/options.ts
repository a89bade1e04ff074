// Checks of the scripts' numeric command-line options, with a message that names the option.

export function integer(name: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new Error(`--${name}: expected a whole number from ${min} to ${max}, got "${value}"`);
  }
  return n;
}
