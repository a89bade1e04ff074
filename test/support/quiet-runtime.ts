// Test processes log only the SDK's errors (expected saga failures log warnings), so a failure's output stays readable.
import { DefaultLogger, Runtime } from '@temporalio/worker';

Runtime.install({ logger: new DefaultLogger('ERROR') });
