/**
 * The signals il-proxy answers as Envoy does (source/server/server.cc):
 * - SIGUSR1 reopens the access logs and --log-path ("caught SIGUSR1. Reopening access logs.").
 *   Node's own meaning of SIGUSR1 is to open the inspector on 127.0.0.1:9229, which would let
 *   anyone on the machine run code inside the proxy: listening for it here takes that away.
 * - SIGHUP is logged and ignored ("caught and eating SIGHUP"): there is no hot restart.
 * - SIGTERM and SIGINT stop the server (see main.ts).
 *
 * Importing this module claims SIGUSR1 and SIGHUP at once, before the config is even read, so no
 * early signal opens the inspector or kills the process; `answerSignals` then gives them their work.
 */
import type { Log } from '../logging/index.js';

let onUsr1 = (): void => undefined;
let onHup = (): void => undefined;

process.on('SIGUSR1', () => onUsr1());
process.on('SIGHUP', () => onHup());

export interface SignalActions {
  readonly log: Log;
  reopenLogs(): void;
}

export function answerSignals(actions: SignalActions): void {
  onUsr1 = () => {
    actions.log.info('caught SIGUSR1. Reopening access logs.');
    actions.reopenLogs();
  };
  onHup = () => actions.log.warn('caught and eating SIGHUP. See documentation for how to hot restart.');
}
