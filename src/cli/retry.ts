// The CLI's reads of the Proxmox API ride out a short blip (a pveproxy restart, one 500) before the
// command gives up with exit 5: four attempts over about five seconds.
import { isPveError } from '../proxmox';

/** Waits before the 2nd, 3rd and 4th attempt. */
export const READ_RETRY_DELAYS_MS: readonly number[] = [500, 1500, 3000];

/** Runs `read`, again after each delay while it fails with a retryable Proxmox error. */
export async function retryRead<T>(read: () => Promise<T>, delaysMs = READ_RETRY_DELAYS_MS): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await read();
    } catch (err) {
      const delay = delaysMs[attempt];
      if (delay === undefined || !isPveError(err) || !err.retryable) throw err;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
