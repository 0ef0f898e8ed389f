// The reading pane's conversation: get_thread when the row has a thread, else
// get_message; each HTML body rendered (sanitised, in Rust) for a sandboxed
// frame; remote content allowed per message or per sender on request.
import type { Backend } from '../backend/backend';
import type { ApiError } from '../../bindings/ApiError';
import type { MessageDetail } from '../../bindings/MessageDetail';
import type { MessageSummary } from '../../bindings/MessageSummary';
import type { RenderedBody } from '../../bindings/RenderedBody';
import { toApiError } from '../backend/errors';
import { idMap, idSet } from '../ids';

export class ReaderStore {
  /** The open conversation, oldest first; empty when nothing is open. */
  thread = $state.raw<MessageDetail[]>([]);
  /** Rendered HTML per message id (absent while rendering or for plain-text mail). */
  bodies = $state<Record<number, RenderedBody>>({});
  openId = $state<number | null>(null);
  loading = $state(false);
  /** The conversation could not be opened. */
  error = $state<ApiError | null>(null);
  /** Something smaller failed (a body would not render, remote content would not load). */
  notice = $state<string | null>(null);

  private generation = 0;

  constructor(private readonly backend: Backend) {}

  async open(summary: MessageSummary): Promise<void> {
    const generation = ++this.generation;
    this.openId = summary.id;
    this.loading = true;
    this.error = null;
    this.notice = null;
    this.bodies = {};
    try {
      const thread =
        summary.threadId !== null
          ? await this.backend.getThread(summary.threadId)
          : [await this.backend.getMessage(summary.id)];
      if (generation !== this.generation) return;
      this.thread = thread;
      await Promise.all(thread.filter((d) => d.html).map((d) => this.render(d.summary.id, generation)));
    } catch (err) {
      if (generation === this.generation) {
        this.thread = [];
        this.error = toApiError(err);
      }
    } finally {
      if (generation === this.generation) this.loading = false;
    }
  }

  close(): void {
    this.generation += 1;
    this.openId = null;
    this.thread = [];
    this.bodies = {};
    this.error = null;
    this.notice = null;
    this.loading = false;
  }

  /** Shows remote content in this one message from now on. */
  async allowForMessage(messageId: number): Promise<void> {
    try {
      const body = await this.backend.allowRemote({ kind: 'message', messageId });
      if (body) this.bodies[messageId] = body;
    } catch (err) {
      this.notice = `Couldn't load remote content: ${toApiError(err).message}`;
    }
  }

  /** Adds the sender to the allowlist, then re-renders their messages in the open thread. */
  async allowForSender(address: string): Promise<void> {
    try {
      await this.backend.allowRemote({ kind: 'sender', address });
    } catch (err) {
      this.notice = `Couldn't allow ${address}: ${toApiError(err).message}`;
      return;
    }
    const generation = this.generation;
    const theirs = this.thread.filter((d) => d.html && d.summary.from.address.toLowerCase() === address.toLowerCase());
    await Promise.all(theirs.map((d) => this.render(d.summary.id, generation)));
  }

  /** Every message a conversation row stands for: archive and delete take the whole conversation. */
  async conversationIds(row: MessageSummary): Promise<number[]> {
    if (this.thread.some((d) => d.summary.id === row.id)) return this.thread.map((d) => d.summary.id);
    if (row.threadId === null || row.threadSize <= 1) return [row.id];
    try {
      return (await this.backend.getThread(row.threadId)).map((d) => d.summary.id);
    } catch {
      return [row.id];
    }
  }

  /** Keeps the open thread's rows in step with optimistic list edits; returns the undo. */
  patch(ids: number[], change: (m: MessageSummary) => MessageSummary): () => void {
    const wanted = idSet(ids);
    const before = idMap(this.thread.filter((d) => wanted.has(d.summary.id)).map((d) => [d.summary.id, d.summary]));
    if (before.size === 0) return () => {};
    this.thread = this.thread.map((d) => (wanted.has(d.summary.id) ? { ...d, summary: change(d.summary) } : d));
    return () => {
      this.thread = this.thread.map((d) => {
        const summary = before.get(d.summary.id);
        return summary ? { ...d, summary } : d;
      });
    };
  }

  /** Renders one body; a failure leaves that message on its plain text instead of failing the thread. */
  private async render(id: number, generation: number): Promise<void> {
    try {
      const body = await this.backend.renderMessage(id);
      if (generation === this.generation) this.bodies[id] = body;
    } catch (err) {
      if (generation !== this.generation) return;
      this.thread = this.thread.map((d) => (d.summary.id === id ? { ...d, html: false } : d));
      this.notice = `Showing plain text: ${toApiError(err).message}`;
    }
  }
}
