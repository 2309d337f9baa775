import { addressString, type Address, type Metadata } from '@il/config/runtime';

/** Per-host counters, as Envoy shows them in `/clusters`. */
export interface HostStats {
  cx_total: number;
  cx_active: number;
  cx_connect_fail: number;
  rq_total: number;
  rq_active: number;
  rq_success: number;
  rq_error: number;
  rq_timeout: number;
}

export type HealthStatus = 'UNKNOWN' | 'HEALTHY' | 'UNHEALTHY' | 'DRAINING' | 'TIMEOUT' | 'DEGRADED';

/** One upstream endpoint of a cluster. */
export class Host {
  #address: Address;
  #addressString: string;
  /** The DNS name the host came from, or the endpoint's `hostname`. */
  readonly hostname: string;
  readonly weight: number;
  readonly metadata: Metadata | undefined;
  readonly healthStatus: HealthStatus;
  readonly stats: HostStats = {
    cx_total: 0,
    cx_active: 0,
    cx_connect_fail: 0,
    rq_total: 0,
    rq_active: 0,
    rq_success: 0,
    rq_error: 0,
    rq_timeout: 0,
  };

  constructor(init: { address: Address; hostname?: string; weight?: number; metadata?: Metadata | undefined; healthStatus?: HealthStatus }) {
    this.#address = init.address;
    this.#addressString = addressString(init.address);
    this.hostname = init.hostname ?? '';
    this.weight = init.weight ?? 1;
    this.metadata = init.metadata;
    this.healthStatus = init.healthStatus ?? 'UNKNOWN';
  }

  get address(): Address {
    return this.#address;
  }

  /** Envoy's string for the host (`127.0.0.1:80`, `envoy://listener/id`): `%UPSTREAM_HOST%`. */
  get addressString(): string {
    return this.#addressString;
  }

  /** A LOGICAL_DNS host keeps its identity while its address follows DNS. */
  updateAddress(address: Address): void {
    this.#address = address;
    this.#addressString = addressString(address);
  }

  /** EDS health: UNHEALTHY, DRAINING and TIMEOUT hosts take no new traffic. */
  get healthy(): boolean {
    return this.healthStatus === 'UNKNOWN' || this.healthStatus === 'HEALTHY' || this.healthStatus === 'DEGRADED';
  }

  /** Connections proxied as raw TCP (TcpProxy): each is one unit of load, like a request. */
  activeTcpSessions = 0;

  /** Load as LEAST_REQUEST sees it: active HTTP requests plus active raw TCP sessions. */
  get activeLoad(): number {
    return this.stats.rq_active + this.activeTcpSessions;
  }
}
