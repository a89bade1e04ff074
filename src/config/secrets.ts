// Which config fields hold secrets: they are never echoed in errors and are masked when printed.

export const SECRET_PATHS: readonly (readonly string[])[] = [
  ['proxmox', 'tokenSecret'],
  ['proxmox', 'password'],
  ['temporal', 'apiKey'],
];

export const REDACTED = '***';

export function isSecretPath(path: readonly PropertyKey[]): boolean {
  // A cluster entry (clusters[i].proxmox...) holds the same secrets as the top level.
  if (path[0] === 'clusters' && typeof path[1] === 'number') path = path.slice(2);
  // An alert sink's SMTP password: alerts.sinks.<name>.password.
  if (path.length === 4 && path[0] === 'alerts' && path[1] === 'sinks' && path[3] === 'password') return true;
  return SECRET_PATHS.some(
    (secret) => secret.length === path.length && secret.every((key, i) => key === path[i]),
  );
}
