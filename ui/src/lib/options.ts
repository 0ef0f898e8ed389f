// Tunables for timing and paging, overridable by tests so they need no fake timers.
export interface AppOptions {
  /** Rows per "Load more" page. */
  pageSize: number;
  /** Coalesce bursts of dataChanged events into one refetch. */
  refreshDebounceMs: number;
  /** How long an error toast stays before it collapses away. */
  toastMs: number;
}

export const DEFAULT_OPTIONS: AppOptions = {
  pageSize: 50,
  refreshDebounceMs: 250,
  toastMs: 8000,
};
