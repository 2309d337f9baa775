import type { Thresholds } from '@il/config/runtime';
import type { Gauge } from '../stats/stat.js';

/** One circuit-breaker budget: how many of a resource may be in use at once. */
export class Resource {
  active = 0;
  constructor(
    readonly max: number,
    private readonly openGauge: Gauge | undefined,
  ) {}

  canCreate(): boolean {
    return this.active < this.max;
  }

  acquire(): void {
    this.active++;
    if (this.active >= this.max) this.openGauge?.set(1);
  }

  release(): void {
    this.active--;
    if (this.active < this.max) this.openGauge?.set(0);
  }
}

/** A cluster's circuit breakers for the default priority (Envoy's ResourceManager). */
export class ResourceManager {
  readonly connections: Resource;
  readonly pendingRequests: Resource;
  readonly requests: Resource;
  readonly retries: Resource;

  constructor(thresholds: Thresholds, gauges: { cx: Gauge; rqPending: Gauge; rq: Gauge; retry: Gauge }) {
    this.connections = new Resource(thresholds.max_connections, gauges.cx);
    this.pendingRequests = new Resource(thresholds.max_pending_requests, gauges.rqPending);
    this.requests = new Resource(thresholds.max_requests, gauges.rq);
    this.retries = new Resource(thresholds.max_retries, gauges.retry);
  }
}
