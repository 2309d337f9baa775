/**
 * How far a filter-state object travels with the connections a stream opens upstream
 * (Envoy's `StreamSharingMayImpactPooling`):
 * - `none`: stays on this connection;
 * - `once`: copied to the first internal hop only (it arrives there as `none`);
 * - `transitive`: copied to every later internal hop.
 */
export type StreamSharing = 'none' | 'once' | 'transitive';

export interface FilterStateObject {
  readonly value: unknown;
  readonly readOnly: boolean;
  readonly sharing: StreamSharing;
}

export interface SetFilterStateOptions {
  /** A read-only object cannot be replaced (default true, as Envoy's common usage). */
  readOnly?: boolean;
  sharing?: StreamSharing;
}

/** A shared object a connection carries to its upstream internal hop. */
export interface SharedFilterStateObject {
  readonly key: string;
  readonly value: unknown;
  readonly sharing: Exclude<StreamSharing, 'none'>;
}

/**
 * Typed per-connection or per-request state that filters publish for each other, for access
 * logs (`%FILTER_STATE(key)%`) and for upstream internal connections (see PassthroughState).
 */
export class FilterState {
  readonly #objects = new Map<string, FilterStateObject>();

  set(key: string, value: unknown, options: SetFilterStateOptions = {}): void {
    const existing = this.#objects.get(key);
    if (existing?.readOnly === true) {
      throw new Error(`FilterState::setData<T> called twice on same ReadOnly state: ${key}`);
    }
    this.#objects.set(key, { value, readOnly: options.readOnly ?? true, sharing: options.sharing ?? 'none' });
  }

  get(key: string): unknown {
    return this.#objects.get(key)?.value;
  }

  getObject(key: string): FilterStateObject | undefined {
    return this.#objects.get(key);
  }

  has(key: string): boolean {
    return this.#objects.has(key);
  }

  get size(): number {
    return this.#objects.size;
  }

  keys(): IterableIterator<string> {
    return this.#objects.keys();
  }

  /** The objects an upstream connection opened on behalf of this state carries along. */
  sharedWithUpstream(): SharedFilterStateObject[] {
    const shared: SharedFilterStateObject[] = [];
    for (const [key, object] of this.#objects) {
      if (object.sharing !== 'none') shared.push({ key, value: object.value, sharing: object.sharing });
    }
    return shared;
  }
}

/** Dynamic metadata: namespaces (e.g. `envoy.lb`, `tunnel`) of JSON-like structs. */
export type DynamicMetadata = Record<string, Record<string, unknown>>;

/** Merges `source` into `target` namespace by namespace, like protobuf MergeFrom on Struct maps. */
export function mergeMetadata(target: DynamicMetadata, source: DynamicMetadata): void {
  for (const [namespace, struct] of Object.entries(source)) {
    target[namespace] = { ...(target[namespace] ?? {}), ...structuredClone(struct) };
  }
}
