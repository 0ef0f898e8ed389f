// Row-id lookups for stores: plain, non-reactive sets built and dropped within
// one update (SvelteSet would add tracking nobody reads).
export function idSet(ids: Iterable<number>): ReadonlySet<number> {
  return new Set(ids);
}
