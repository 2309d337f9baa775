import type { Bootstrap } from '@il/config/runtime';
import { Runtime, type ComponentLog } from '@il/core';
import { startAdmin, type AdminServer, type ServerState } from '../admin/index.js';
import type { CliOptions } from '../cli/options.js';
import type { Log, Logging } from '../logging/index.js';
import { adminContext } from './admin-context.js';
import { networkFilterFactories } from './filter-factories.js';

/** Bridges core's `(level, message)` logs to a component's pino logger. */
export function componentLog(logging: Logging): (component: string) => ComponentLog {
  return (component) => {
    const log: Log = logging.logger(component);
    return (level, message) => log[level](message);
  };
}

/**
 * il-proxy as a process: the runtime of a bootstrap plus its admin interface, started all or
 * nothing, and stopped the way Envoy operators expect (drain, then exit).
 */
export class ProxyServer {
  readonly runtime: Runtime;
  readonly startedAt = Date.now();
  #admin: AdminServer | undefined;
  #state: ServerState = 'INITIALIZING';
  #stopping: Promise<void> | undefined;
  readonly #log: Log;

  constructor(
    readonly bootstrap: Bootstrap,
    private readonly logging: Logging,
    private readonly options: CliOptions,
    private readonly onQuit: (exitCode: number) => void,
  ) {
    this.#log = logging.logger('main');
    this.runtime = new Runtime(bootstrap, {
      filterFactories: networkFilterFactories(),
      log: componentLog(logging),
      drainStrategy: options.drainStrategy,
    });
  }

  get state(): ServerState {
    return this.#state;
  }

  get admin(): AdminServer | undefined {
    return this.#admin;
  }

  /** Binds the admin, warms clusters, binds every listener; on any failure nothing stays bound. */
  async start(): Promise<void> {
    const adminAddress = this.bootstrap.admin?.address;
    if (adminAddress !== undefined) {
      const address = adminAddress.pipe !== undefined
        ? { path: adminAddress.pipe.path }
        : { host: adminAddress.socket_address?.address ?? '127.0.0.1', port: adminAddress.socket_address?.port_value ?? 0 };
      const context = adminContext(this.bootstrap, this.runtime, this.logging, this.options, {
        state: () => this.#state,
        startedAt: this.startedAt,
        drainListeners: (o) => this.#drainListeners(o.graceful),
        quit: () => void this.stop(0).then(() => this.onQuit(0)),
        reopenLogs: () => this.reopenLogs(),
      });
      this.#admin = await startAdmin(context, address, this.logging.logger('admin'), {
        ...(this.options.adminAddressPath === undefined ? {} : { addressPath: this.options.adminAddressPath }),
      });
    }
    try {
      await this.runtime.start();
    } catch (error) {
      await this.#admin?.close();
      throw error;
    }
    this.#state = 'LIVE';
    for (const listener of this.runtime.listenerManager.listeners()) {
      this.#log.info(`listener '${listener.name}' ${listener.internal ? 'registered as' : 'listening on'} ${listener.address}`);
    }
    this.#log.info('starting main dispatch loop');
  }

  /**
   * Stops accepting, lets in-flight work finish for up to `drainTimeMs` (HTTP/2 gets GOAWAY,
   * HTTP/1.1 `connection: close`), closes what is left, then the admin. Idempotent.
   */
  stop(drainTimeMs: number): Promise<void> {
    this.#stopping ??= (async () => {
      this.#state = 'DRAINING';
      this.#log.info(`shutting down: draining for up to ${drainTimeMs} ms`);
      await this.runtime.shutdown(drainTimeMs);
      await this.#admin?.close();
      this.#log.info('exiting');
    })();
    return this.#stopping;
  }

  /** Access logs and --log-path are reopened (admin /reopen_logs, SIGUSR1), for log rotation. */
  reopenLogs(): void {
    void this.runtime.accessLogFiles.reopen();
    this.logging.reopen();
  }

  /** Admin /drain_listeners: listeners stop accepting; with `graceful`, after the drain time. */
  async #drainListeners(graceful: boolean): Promise<void> {
    const drainTimeMs = this.options.drainTimeSeconds * 1000;
    this.#state = 'DRAINING';
    if (graceful) {
      this.runtime.drain.startDrain(drainTimeMs);
      await new Promise((resolve) => setTimeout(resolve, drainTimeMs));
    }
    await this.runtime.listenerManager.stopListening();
  }
}
