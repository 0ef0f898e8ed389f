// Tunables for timing and paging, overridable by tests so they need no fake timers.
export interface AppOptions {
  /** Rows per keyset page (the backend caps it at a few hundred). */
  pageSize: number;
  /** Pause after the last keystroke before a search is sent. */
  searchDebounceMs: number;
  /** Coalesce bursts of dataChanged events into one refetch. */
  refreshDebounceMs: number;
  /** How long an error toast stays before it collapses away. */
  toastMs: number;
  /** How long archive and delete wait behind their Undo toast before they are sent (0: at once). */
  undoMs: number;
}

export const DEFAULT_OPTIONS: AppOptions = {
  pageSize: 200,
  searchDebounceMs: 120,
  refreshDebounceMs: 250,
  toastMs: 8000,
  undoMs: 5000,
};
