// Counts the Proxmox API requests made inside one piece of async work (a monitoring cycle's
// observation), so the metrics can show that a cycle stays at one request however large the fleet.
// AsyncLocalStorage keeps requests of other activities running at the same time out of the count.
import { AsyncLocalStorage } from 'node:async_hooks';

const current = new AsyncLocalStorage<{ requests: number }>();

/** Runs `work` and returns its value with the number of API requests it sent (retries included). */
export async function countingRequests<T>(work: () => Promise<T>): Promise<{ value: T; requests: number }> {
  const counter = { requests: 0 };
  const value = await current.run(counter, work);
  return { value, requests: counter.requests };
}

/** Called by the transport for every request it sends. */
export function noteRequest(): void {
  const counter = current.getStore();
  if (counter) counter.requests++;
}
