import { constants } from 'node:os';
import type { ResponseFlag } from '@il/core';

/** Envoy's response code details (StreamInfo::ResponseCodeDetails) that the HCM and router set. */
export const ResponseCodeDetails = {
  viaUpstream: 'via_upstream',
  routeNotFound: 'route_not_found',
  clusterNotFound: 'cluster_not_found',
  directResponse: 'direct_response',
  noHealthyUpstream: 'no_healthy_upstream',
  upgradeFailed: 'upgrade_failed',
  responseTimeout: 'upstream_response_timeout',
  streamIdleTimeout: 'stream_idle_timeout',
  requestOverallTimeout: 'request_overall_timeout',
  requestHeaderTimeout: 'request_header_timeout',
  missingHost: 'missing_host_header',
  invalidAuthority: 'http.invalid_authority',
  missingPath: 'missing_path_rejected',
  absolutePath: 'absolute_path_rejected',
  lowVersion: 'low_version',
  invalidUnderscore: 'unexpected_underscore',
  downstreamRemoteDisconnect: 'downstream_remote_disconnect',
  downstreamRemoteReset: 'http2.remote_reset',
  upstreamMaxStreamDuration: 'upstream_max_stream_duration_reached',
  connectionTermination: 'upstream_reset_after_response_started',
  tooManyHeaders: 'http1.too_many_headers',
  headersTooLarge: 'http1.headers_too_large',
  codecError: 'http1.codec_error',
} as const;

/**
 * Envoy's Http::StreamResetReason strings (Http::Utility::resetReasonToString), for the 503 body
 * `upstream connect error or disconnect/reset before headers. reset reason: <reason>`.
 *
 * `connection failure` is the name Envoy used before it split local and remote connection
 * failures; il keeps the older, shorter name (the brief's wording, and what most clients parse).
 */
export type ResetReason =
  | 'connection failure'
  | 'connection timeout'
  | 'connection termination'
  | 'local reset'
  | 'overflow'
  | 'remote reset'
  | 'remote refused stream reset'
  | 'remote error with CONNECT request'
  | 'protocol error';

/** Envoy's router: which response flag a reset before or after headers sets (streamResetReasonToResponseFlag). */
export function resetReasonFlag(reason: ResetReason): ResponseFlag {
  switch (reason) {
    case 'connection failure':
    case 'connection timeout':
      return 'UF';
    case 'connection termination':
      return 'UC';
    case 'local reset':
      return 'LR';
    case 'overflow':
      return 'UO';
    case 'remote reset':
    case 'remote refused stream reset':
    case 'remote error with CONNECT request':
      return 'UR';
    case 'protocol error':
      return 'UPE';
  }
}

/** The body of Envoy's 503 (502 for a protocol error) when the upstream failed before its headers. */
export function upstreamResetBody(reason: ResetReason, transportFailureReason: string | undefined): string {
  const base = `upstream connect error or disconnect/reset before headers. reset reason: ${reason}`;
  return transportFailureReason === undefined || transportFailureReason === '' ? base : `${base}, transport failure reason: ${transportFailureReason}`;
}

/** The response code details for an upstream reset: `upstream_reset_before_response_started{<reason>[|<tfr>]}`, spaces as `_`. */
export function upstreamResetDetails(reason: ResetReason, transportFailureReason: string | undefined, responseStarted: boolean): string {
  const base = responseStarted ? 'upstream_reset_after_response_started' : 'upstream_reset_before_response_started';
  const inner = transportFailureReason === undefined || transportFailureReason === '' ? reason : `${reason}|${transportFailureReason}`;
  return `${base}{${inner}}`.replace(/\s/g, '_');
}

const errnos: Record<string, number | undefined> = constants.errno;

/**
 * The transport failure reason Envoy's ClientConnectionImpl records for a connection that never
 * came up, in the numeric form of the Envoy releases that say `connection failure`:
 * - a TCP connect that the kernel accepted and that failed later: `delayed connect error: 111`
 *   (the errno, here ECONNREFUSED);
 * - a connect that fails at once: `immediate connect error: <errno>`. That is how a Unix socket
 *   path that does not exist fails, and how a connection to an internal listener fails (Envoy's
 *   user-space socket answers EINVAL, 22, whatever the cause: §5).
 * Newer Envoy releases print strerror() text instead of the number (`Connection refused`).
 */
export function connectFailureReason(error: NodeJS.ErrnoException | undefined, kind: 'ip' | 'pipe' | 'internal'): string {
  if (kind === 'internal') return `immediate connect error: ${errnos.EINVAL ?? 22}`;
  const code = error?.code;
  const errno = code === undefined ? undefined : errnos[code];
  const value = errno ?? (typeof error?.errno === 'number' ? Math.abs(error.errno) : code ?? 'unknown');
  return kind === 'pipe' ? `immediate connect error: ${value}` : `delayed connect error: ${value}`;
}

/** The standard reason phrase, which Envoy's codecs send as the body of a codec-level error reply. */
export function statusText(code: number): string {
  switch (code) {
    case 400:
      return 'Bad Request';
    case 408:
      return 'Request Timeout';
    case 413:
      return 'Payload Too Large';
    case 426:
      return 'Upgrade Required';
    case 431:
      return 'Request Header Fields Too Large';
    default:
      return 'Error';
  }
}
