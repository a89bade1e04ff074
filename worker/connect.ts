// Connects the worker to Temporal, retrying for a bounded time so a server that is still starting
// is waited for, and one that stays down ends in a clear error instead of a hang.
import { NativeConnection } from '@temporalio/worker';
import { nativeConnectionOptions, type TemporalSettings } from '../src/temporal/settings';

export class TemporalUnreachableError extends Error {
  override name = 'TemporalUnreachableError';
}

export async function connectWithDeadline(
  settings: TemporalSettings,
  opts: { deadlineMs: number; onRetry?: (attempt: number, err: Error) => void },
): Promise<NativeConnection> {
  const options = await nativeConnectionOptions(settings);
  const until = Date.now() + opts.deadlineMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await NativeConnection.connect(options);
    } catch (err) {
      if (Date.now() >= until) {
        throw new TemporalUnreachableError(
          `Temporal is unreachable at ${settings.address} (namespace ${settings.namespace}) after ` +
            `${Math.round(opts.deadlineMs / 1000)} s: ${(err as Error).message}. ` +
            'Is the server running? `npm start` starts a local dev server; set TEMPORAL_ADDRESS for another.',
        );
      }
      opts.onRetry?.(attempt, err as Error);
      await new Promise((r) => setTimeout(r, Math.min(5000, 500 * attempt)));
    }
  }
}
