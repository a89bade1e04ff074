// What a policy may decide to do; each action carries the reason a human reads in the UI and CLI.

export type DropMode = 'stop' | 'destroy';

export type Action =
  | { kind: 'migrate'; vmid: number; from: string; to: string; reason: string }
  | { kind: 'drop'; vmid: number; node: string; mode: DropMode; reason: string }
  | {
      kind: 'scale';
      vmid: number;
      node: string;
      cores?: number;
      memoryMiB?: number;
      swapMiB?: number;
      reason: string;
    }
  | { kind: 'provision'; node: string; memoryMiB: number; reason: string };

export type ActionKind = Action['kind'];
