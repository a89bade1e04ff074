// Numbers as people read them in action reasons and notes; fixed-point only, so the text is
// identical on every replay.

import { loadPercent, type NodeLoad } from './capacity';

const MiB = 1024 * 1024;

export function formatPercent(percent: number): string {
  return Number.isFinite(percent) ? `${percent.toFixed(1)} %` : 'unknown %';
}

export function formatLoad(load: Pick<NodeLoad, 'node' | 'managedBytes' | 'maxmem'>): string {
  return `${load.node} ${formatPercent(loadPercent(load))}`;
}

export function formatMiB(bytes: number): string {
  return `${Math.round(bytes / MiB)} MiB`;
}

export function formatUptime(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const days = Math.floor(s / 86400);
  const hours = Math.floor((s % 86400) / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  if (days > 0) return `${days} d ${hours} h`;
  if (hours > 0) return `${hours} h ${minutes} min`;
  if (minutes > 0) return `${minutes} min`;
  return `${s} s`;
}
