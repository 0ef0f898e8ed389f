// Row-id lookups for stores: plain, non-reactive sets and maps built and dropped within
// one update (SvelteSet would add tracking nobody reads).
export function idSet(ids: Iterable<number>): ReadonlySet<number> {
  return new Set(ids);
}

export function idMap<T>(entries: Iterable<readonly [number, T]>): ReadonlyMap<number, T> {
  return new Map(entries);
}
