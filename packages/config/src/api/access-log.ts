/** envoy.config.accesslog.v3.AccessLog and the loggers il implements: file, stdout, stderr. */
import * as z from 'zod';
import { dataSource } from './core.js';
import { message, nonEmptyString, oneof, requiredOneof, struct, typedConfig, typedMessage, unsupported } from '../schema/proto.js';

export const substitutionFormatString = message(
  'envoy.config.core.v3.SubstitutionFormatString',
  {
    text_format: z.string().optional(),
    json_format: struct.optional(),
    text_format_source: dataSource.optional(),
    omit_empty_values: z.boolean().default(false),
    content_type: z.string().default(''),
    formatters: unsupported('custom formatter extensions are not implemented').optional(),
    json_format_options: message('envoy.config.core.v3.JsonFormatOptions', { sort_properties: z.boolean().default(false) }).optional(),
  },
  { oneofs: [requiredOneof('text_format', 'json_format', 'text_format_source')] },
);
export type SubstitutionFormatString = z.output<typeof substitutionFormatString>;

export const fileAccessLog = typedMessage(
  'envoy.extensions.access_loggers.file.v3.FileAccessLog',
  ['envoy.access_loggers.file'],
  {
    path: nonEmptyString(),
    /** Deprecated: a text format string. */
    format: z.string().optional(),
    /** Deprecated: a JSON format. */
    json_format: struct.optional(),
    log_format: substitutionFormatString.optional(),
  },
  { oneofs: [oneof('format', 'json_format', 'log_format')] },
);

export const stdoutAccessLog = typedMessage('envoy.extensions.access_loggers.stream.v3.StdoutAccessLog', ['envoy.access_loggers.stdout'], {
  log_format: substitutionFormatString.optional(),
});

export const stderrAccessLog = typedMessage('envoy.extensions.access_loggers.stream.v3.StderrAccessLog', ['envoy.access_loggers.stderr'], {
  log_format: substitutionFormatString.optional(),
});

export const accessLog = message('envoy.config.accesslog.v3.AccessLog', {
  name: z.string().default(''),
  filter: unsupported('access log filters are not implemented').optional(),
  typed_config: typedConfig('access logger', [fileAccessLog, stdoutAccessLog, stderrAccessLog]),
});

export type FileAccessLog = z.output<typeof fileAccessLog.schema>;
export type StdoutAccessLog = z.output<typeof stdoutAccessLog.schema>;
export type StderrAccessLog = z.output<typeof stderrAccessLog.schema>;
export type AccessLog = z.output<typeof accessLog>;
