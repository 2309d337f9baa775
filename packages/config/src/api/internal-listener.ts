/** The bootstrap extension that turns internal listeners on, and sets their buffer size. */
import * as z from 'zod';
import { typedConfig, typedMessage, uint32 } from '../schema/proto.js';

export const internalListener = typedMessage('envoy.extensions.bootstrap.internal_listener.v3.InternalListener', ['envoy.bootstrap.internal_listener'], {
  /** KiB of each user-space socket's receive buffer; process-wide. */
  buffer_size_kb: uint32({ min: 1, max: 8192 }).default(1024),
});
export type InternalListener = z.output<typeof internalListener.schema>;

export const bootstrapExtensionConfig = typedConfig('bootstrap extension', [internalListener]);
export type BootstrapExtensionConfig = z.output<typeof bootstrapExtensionConfig>;
