// One line saying what an action does, as the CLI, the Web UI details and the notes print it.

import type { Action } from '../domain';

export function formatAction(action: Action): string {
  switch (action.kind) {
    case 'migrate':
      return `migrate CT ${action.vmid} ${action.from} → ${action.to}`;
    case 'drop':
      return `drop CT ${action.vmid} on ${action.node} (${action.mode})`;
    case 'scale': {
      const parts = [
        action.cores === undefined ? '' : `cores ${action.cores}`,
        action.memoryMiB === undefined ? '' : `memory ${action.memoryMiB} MiB`,
        action.swapMiB === undefined ? '' : `swap ${action.swapMiB} MiB`,
      ].filter(Boolean);
      return `scale CT ${action.vmid} on ${action.node}: ${parts.join(', ')}`;
    }
    case 'provision':
      return `provision ${action.memoryMiB} MiB on ${action.node}`;
  }
}
