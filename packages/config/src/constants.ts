/** The one key `typed_extension_protocol_options` accepts. */
export const HTTP_PROTOCOL_OPTIONS_KEY = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';

/**
 * Envoy's Http2ProtocolOptions defaults since 1.36 (`safe_http2_options`, made permanent in 1.40):
 * 1024 concurrent streams, a 16 MiB stream window and a 24 MiB connection window. Before, the
 * windows were 256 MiB and the streams unlimited, which let one slow reader behind a tunnel grow a
 * proxy by hundreds of MiB.
 */
export const HTTP2_DEFAULTS = {
  maxConcurrentStreams: 1024,
  initialStreamWindowSize: 16 * 1024 * 1024,
  initialConnectionWindowSize: 24 * 1024 * 1024,
} as const;
