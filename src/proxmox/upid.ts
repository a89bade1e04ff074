// Parses PVE task ids (UPIDs). A UPID names the node that runs the task, so a retry can find the
// node to poll from the id a workflow stored, and tell which container and operation it was for.

export interface UpidParts {
  upid: string;
  node: string;
  /** Worker process id. */
  pid: number;
  /** Process start time in clock ticks since boot; with pid it identifies the worker process. */
  pstart: number;
  /** Task start, epoch seconds. */
  starttime: number;
  /** Task type: vzstart, vzmigrate, vzcreate, ... */
  type: string;
  /** Task object id, for container tasks the vmid as text; may be empty. */
  id: string;
  /** user@realm, or user@realm!tokenid for API tokens. */
  user: string;
}

// Same shape as PVE::Tools::upid_decode: pstart is 8 or 9 hex digits, id may be empty.
const UPID =
  /^UPID:([a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?):([0-9A-Fa-f]{8}):([0-9A-Fa-f]{8,9}):([0-9A-Fa-f]{8}):([^:\s]+):([^:\s]*):([^:\s]+):$/;

/** Returns the parts of a UPID, or undefined when the text is not one. */
export function parseUpid(upid: string): UpidParts | undefined {
  const m = UPID.exec(upid);
  if (!m) return undefined;
  const [node = '', pid = '', pstart = '', starttime = '', type = '', id = '', user = ''] = m.slice(1);
  return {
    upid,
    node,
    pid: parseInt(pid, 16),
    pstart: parseInt(pstart, 16),
    starttime: parseInt(starttime, 16),
    type,
    id,
    user,
  };
}

export function isUpid(text: string): boolean {
  return UPID.test(text);
}

/** The vmid a container task was for, when its id is one. */
export function upidVmid(parts: Pick<UpidParts, 'id'>): number | undefined {
  return /^\d+$/.test(parts.id) ? Number(parts.id) : undefined;
}
