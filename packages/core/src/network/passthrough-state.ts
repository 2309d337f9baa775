import {
  mergeMetadata,
  type DynamicMetadata,
  type FilterState,
  type SharedFilterStateObject,
} from '../stream-info/filter-state.js';

/**
 * What the connecting side of an internal connection hands to the accepting side: dynamic
 * metadata namespaces and the filter-state objects shared with upstream (Envoy's user-space
 * passthrough state, §1.4 and §2 rule 21). It travels per connection, not per request.
 */
export class PassthroughState {
  readonly metadata: DynamicMetadata;
  readonly objects: readonly SharedFilterStateObject[];

  constructor(metadata: DynamicMetadata = {}, objects: readonly SharedFilterStateObject[] = []) {
    this.metadata = structuredClone(metadata);
    this.objects = [...objects];
  }

  /** Captures, at connect time, what a downstream's state shares with the upstream hop. */
  static capture(options: { metadata?: DynamicMetadata; filterState?: FilterState }): PassthroughState {
    return new PassthroughState(options.metadata, options.filterState?.sharedWithUpstream());
  }

  get empty(): boolean {
    return Object.keys(this.metadata).length === 0 && this.objects.length === 0;
  }

  /**
   * Merges into the accepting connection's state. `once` objects arrive unshared (they stop
   * here); `transitive` ones stay shared and travel on to the next internal hop.
   */
  mergeInto(filterState: FilterState, metadata: DynamicMetadata): void {
    mergeMetadata(metadata, this.metadata);
    for (const object of this.objects) {
      filterState.set(object.key, object.value, {
        readOnly: true,
        sharing: object.sharing === 'transitive' ? 'transitive' : 'none',
      });
    }
  }
}
