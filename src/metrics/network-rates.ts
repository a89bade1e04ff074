// Per-node network rates from PVE's cumulative guest counters. /cluster/resources gives each guest's
// netin/netout as bytes since it started, and nothing for nodes; a node's rate is the sum, over its
// guests seen on it in two readings, of each counter's growth divided by the time between them. A
// guest that moved, restarted (its counter went down) or is new counts from its next reading on.

export interface GuestCounters {
  vmid: number;
  node: string;
  netin: number;
  netout: number;
}

export interface NodeNetworkRate {
  /** Bytes per second, received and sent by the node's guests. */
  inBytesPerSecond: number;
  outBytesPerSecond: number;
}

export class NetworkRates {
  private last: { at: number; guests: Map<number, GuestCounters> } | null = null;

  /**
   * Takes one reading and returns the rates since the previous one, by node (a node without guests
   * is not in the map: its rate is 0); null on the first reading and when no time passed.
   */
  update(at: number, guests: readonly GuestCounters[]): Map<string, NodeNetworkRate> | null {
    const rates = new Map<string, NodeNetworkRate>();
    const previous = this.last;
    this.last = { at, guests: new Map(guests.map((g) => [g.vmid, g])) };
    if (previous === null || at <= previous.at) return null;
    const seconds = (at - previous.at) / 1000;
    for (const g of guests) {
      const rate = rates.get(g.node) ?? { inBytesPerSecond: 0, outBytesPerSecond: 0 };
      rates.set(g.node, rate);
      const before = previous.guests.get(g.vmid);
      if (!before || before.node !== g.node || g.netin < before.netin || g.netout < before.netout) continue;
      rate.inBytesPerSecond += (g.netin - before.netin) / seconds;
      rate.outBytesPerSecond += (g.netout - before.netout) / seconds;
    }
    return rates;
  }
}
