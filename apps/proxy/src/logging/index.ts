export { createLogging, COMPONENTS, JSON_LOG_FORMAT, type Component, type Log, type Logging, type LoggingOptions } from './logging.js';
export { LOG_LEVELS, parseLogLevel, toPinoLevel, fromPinoLevel, type EnvoyLogLevel } from './levels.js';
export { compileLogFormat, DEFAULT_LOG_FORMAT, type LogRecord } from './text-format.js';
