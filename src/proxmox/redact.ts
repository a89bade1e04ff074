// Removes credentials from text before it leaves src/proxmox (error messages, failure details, logs).
// Pattern rules catch secrets we were never told about (a ticket echoed by a proxy); literal rules
// catch the ones we hold (token secret, password, current ticket).

const PATTERNS: ReadonlyArray<[RegExp, string]> = [
  // API token header value: PVEAPIToken=user@realm!id=secret (also with ':' as in some clients).
  [/PVEAPIToken=[^\s"',;]+/g, 'PVEAPIToken=<redacted>'],
  [/PVEAuthCookie=[^\s"',;]+/g, 'PVEAuthCookie=<redacted>'],
  // A PVE ticket: PVE:user@realm:<8 hex>::<base64 signature>.
  [/PVE:[^\s:"']+:[0-9A-Fa-f]{8}::[A-Za-z0-9+/=]+/g, '<redacted-ticket>'],
  [/(CSRFPreventionToken["']?\s*[:=]\s*["']?)[0-9A-Fa-f]{8}:[A-Za-z0-9+/=]+/g, '$1<redacted>'],
];

/** Replaces every known secret and every credential-shaped substring in `text`. */
export function redactSecrets(text: string, secrets: ReadonlyArray<string | undefined> = []): string {
  let out = text;
  // Longest first, so a secret that contains another is replaced whole.
  const literal = secrets
    .filter((s): s is string => typeof s === 'string' && s.length >= 4)
    .sort((a, b) => b.length - a.length);
  for (const secret of literal) out = out.split(secret).join('<redacted>');
  for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
  return out;
}
