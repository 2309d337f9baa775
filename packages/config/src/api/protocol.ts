/** envoy.config.core.v3 protocol options: HTTP/1.1, HTTP/2 and the settings common to both. */
import * as z from 'zod';
import { HTTP2_DEFAULTS } from '../constants.js';
import { duration, durationOr, empty, message, oneof, percent, protoEnum, uint32, unsupported } from '../schema/proto.js';

export const http1ProtocolOptions = message(
  'envoy.config.core.v3.Http1ProtocolOptions',
  {
    allow_absolute_url: z.boolean().optional(),
    accept_http_10: z.boolean().default(false),
    default_host_for_http_10: z.string().default(''),
    header_key_format: message(
      'envoy.config.core.v3.Http1ProtocolOptions.HeaderKeyFormat',
      {
        proper_case_words: empty('envoy.config.core.v3.Http1ProtocolOptions.HeaderKeyFormat.ProperCaseWords').optional(),
        stateful_formatter: unsupported('stateful header formatters are not implemented').optional(),
      },
      { oneofs: [oneof('proper_case_words', 'stateful_formatter')] },
    ).optional(),
    enable_trailers: z.boolean().default(false),
    allow_chunked_length: z.boolean().default(false),
    override_stream_error_on_invalid_http_message: z.boolean().optional(),
    send_fully_qualified_url: z.boolean().default(false),
    allow_custom_methods: z.boolean().default(false),
  },
);
export type Http1ProtocolOptions = z.output<typeof http1ProtocolOptions>;

const WINDOW = { min: 65535, max: 2147483647 };

export const keepaliveSettings = message('envoy.config.core.v3.KeepaliveSettings', {
  interval: duration({ min: 1 }).optional(),
  timeout: duration({ min: 1 }),
  interval_jitter: percent.optional(),
  connection_idle_interval: duration({ min: 1 }).optional(),
});

export const http2ProtocolOptions = message('envoy.config.core.v3.Http2ProtocolOptions', {
  hpack_table_size: uint32().default(4096),
  max_concurrent_streams: uint32({ min: 1, max: 2147483647 }).default(HTTP2_DEFAULTS.maxConcurrentStreams),
  initial_stream_window_size: uint32(WINDOW).default(HTTP2_DEFAULTS.initialStreamWindowSize),
  initial_connection_window_size: uint32(WINDOW).default(HTTP2_DEFAULTS.initialConnectionWindowSize),
  allow_connect: z.boolean().default(false),
  allow_metadata: z.boolean().default(false),
  max_outbound_frames: uint32({ min: 1 }).default(10000),
  max_outbound_control_frames: uint32({ min: 1 }).default(1000),
  max_consecutive_inbound_frames_with_empty_payload: uint32().default(1),
  max_inbound_priority_frames_per_stream: uint32().default(100),
  max_inbound_window_update_frames_per_data_frame_sent: uint32({ min: 1 }).default(10),
  stream_error_on_invalid_http_messaging: z.boolean().default(false),
  override_stream_error_on_invalid_http_message: z.boolean().optional(),
  connection_keepalive: keepaliveSettings.optional(),
});
export type Http2ProtocolOptions = z.output<typeof http2ProtocolOptions>;

export const http3Refused = () => unsupported('HTTP/3 is not implemented').optional();

/** envoy.config.core.v3.HttpProtocolOptions: settings shared by every HTTP version. */
export const commonHttpProtocolOptions = message('envoy.config.core.v3.HttpProtocolOptions', {
  /** Unset → 1 hour; `0s` disables it. */
  idle_timeout: durationOr(3600),
  max_connection_duration: duration().optional(),
  max_headers_count: uint32({ min: 1 }).default(100),
  max_stream_duration: duration().optional(),
  headers_with_underscores_action: protoEnum({ ALLOW: 0, REJECT_REQUEST: 1, DROP_HEADER: 2 }).default('ALLOW'),
  max_requests_per_connection: uint32().optional(),
});
export type CommonHttpProtocolOptions = z.output<typeof commonHttpProtocolOptions>;
