export { internalAddressString } from './network/address.js';
export { InternalSocket, DEFAULT_BUFFER_SIZE_BYTES, INTERNAL_CLIENT_ADDRESS } from './network/internal-socket.js';
export {
  InternalListenerRegistry,
  InternalListener,
  type InternalListenerRegistryOptions,
  type InternalListenOptions,
  type InternalConnectOptions,
  type InternalListenerAddress,
  type InternalConnectionHandler,
} from './network/internal-listener-registry.js';
export { PassthroughState } from './network/passthrough-state.js';
export { type SocketError } from './network/socket-errors.js';
export {
  FilterState,
  mergeMetadata,
  type DynamicMetadata,
  type FilterStateObject,
  type SetFilterStateOptions,
  type SharedFilterStateObject,
  type StreamSharing,
} from './stream-info/filter-state.js';
export { dial, hopsOf, type DialOptions, type ConnectionSocket } from './network/dial.js';
export { Counter, Gauge, Histogram, DEFAULT_BUCKETS, type HistogramUnit, type StatInfo, type Tags } from './stats/stat.js';
export { Store, Scope } from './stats/store.js';
export {
  StreamInfo,
  RESPONSE_FLAGS,
  allocateConnectionId,
  type ResponseFlag,
  type ResponseFlagName,
  type DetectedCloseType,
  type HeaderMap,
} from './stream-info/stream-info.js';
export {
  connectionAddresses,
  formatAddress,
  formatAddressWithoutPort,
  addressPort,
  type ConnectionAddress,
} from './network/connection-address.js';
