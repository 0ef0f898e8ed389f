// The search box's results: the typed text goes to Rust unparsed (it owns the
// operators), requests are debounced, and answers to stale text are dropped so
// typing stays fluid. An unparsable query shows Rust's sentence, not a failure.
import type { Backend } from '../backend/backend';
import type { ApiError } from '../../bindings/ApiError';
import type { MessageSummary } from '../../bindings/MessageSummary';
import type { SearchHit } from '../../bindings/SearchHit';
import type { Span } from '../../bindings/Span';
import { toApiError } from '../backend/errors';
import { debounce } from '../debounce';
import { idMap, idSet } from '../ids';

export const SEARCH_LIMIT = 200;

export interface Highlights {
  subject: Span[];
  snippet: Span[];
}

export class SearchStore {
  text = $state('');
  hits = $state.raw<SearchHit[]>([]);
  searching = $state(false);
  /** Set when the last query was rejected (e.g. code invalidQuery). */
  error = $state<ApiError | null>(null);

  private generation = 0;
  private readonly searchSoon;

  constructor(
    private readonly backend: Backend,
    debounceMs: number,
  ) {
    this.searchSoon = debounce(() => void this.run(), debounceMs);
  }

  get active(): boolean {
    return this.text.trim() !== '';
  }

  get messages(): MessageSummary[] {
    return this.hits.map((h) => h.message);
  }

  highlights(id: number): Highlights | undefined {
    const hit = this.hits.find((h) => h.message.id === id);
    return hit && { subject: hit.subjectMatches, snippet: hit.snippetMatches };
  }

  setText(text: string): void {
    this.text = text;
    if (!this.active) {
      this.clear();
      return;
    }
    this.searching = true;
    this.searchSoon();
  }

  clear(): void {
    this.generation += 1;
    this.searchSoon.cancel();
    this.text = '';
    this.hits = [];
    this.error = null;
    this.searching = false;
  }

  /** Optimistic edits mirror the list's, so a hit shows the same state as its row. */
  patch(ids: number[], change: (m: MessageSummary) => MessageSummary): () => void {
    const wanted = idSet(ids);
    const before = idMap(this.hits.filter((h) => wanted.has(h.message.id)).map((h) => [h.message.id, h.message]));
    this.hits = this.hits.map((h) => (wanted.has(h.message.id) ? { ...h, message: change(h.message) } : h));
    return () => {
      this.hits = this.hits.map((h) => {
        const message = before.get(h.message.id);
        return message ? { ...h, message } : h;
      });
    };
  }

  remove(ids: number[]): () => void {
    const wanted = idSet(ids);
    const taken = this.hits.map((h, i) => [i, h] as const).filter(([, h]) => wanted.has(h.message.id));
    this.hits = this.hits.filter((h) => !wanted.has(h.message.id));
    return () => {
      // Back where they were in the ranking (positions counted before removal).
      const hits = [...this.hits];
      for (const [i, h] of taken) hits.splice(i, 0, h);
      this.hits = hits;
    };
  }

  dispose(): void {
    this.searchSoon.cancel();
  }

  private async run(): Promise<void> {
    const generation = ++this.generation;
    const text = this.text;
    try {
      const hits = await this.backend.searchMessages({ text, limit: SEARCH_LIMIT });
      if (generation !== this.generation) return;
      this.hits = hits;
      this.error = null;
    } catch (err) {
      if (generation !== this.generation) return;
      this.hits = [];
      this.error = toApiError(err);
    } finally {
      if (generation === this.generation) this.searching = false;
    }
  }
}
