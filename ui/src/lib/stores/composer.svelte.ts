// The composer's draft: opened by compose (new, reply, reply all, forward),
// open_draft (a message of the Drafts folder) or reopened after Undo or a
// refusal; its fields saved through save_draft `saveMs` after the last change
// (and at once on close or send); files attached as raw bytes; sent through
// the outbox. Answers from save_draft never overwrite what the user typed
// since: only the draft's state and attachments are taken from them.
import type { Address } from '../../bindings/Address';
import type { ComposeRequest } from '../../bindings/ComposeRequest';
import type { Draft } from '../../bindings/Draft';
import type { DraftEdit } from '../../bindings/DraftEdit';
import type { Backend } from '../backend/backend';
import { toApiError } from '../backend/errors';
import { fileBytes, splitQuote, swapSignature } from '../compose';
import { idSet } from '../ids';

/** The fields the composer edits. */
export interface ComposerFields {
  to: Address[];
  cc: Address[];
  bcc: Address[];
  subject: string;
  /** The editor's HTML: what the user writes, with the signature (the quote stays apart). */
  body: string;
}

export class ComposerStore {
  /** The open draft (null: the composer is closed). */
  draft = $state<Draft | null>(null);
  to = $state.raw<Address[]>([]);
  cc = $state.raw<Address[]>([]);
  bcc = $state.raw<Address[]>([]);
  subject = $state('');
  /** The editor's HTML as last reported (what the editor was loaded with until then). */
  body = $state('');
  /** The quoted original below the editor (reply, forward), kept as Rust built it. */
  quote = $state('');
  /** Bumped whenever another draft (or another version of it) is loaded: the editor reloads its content. */
  generation = $state(0);
  /** A sentence for the composer: a refusal of send, attach, save or a From change. */
  error = $state<string | null>(null);
  /** Opening, sending, switching account: the buttons wait. */
  busy = $state(false);
  saving = $state(false);
  /** Files being attached right now. */
  attaching = $state(0);
  /** When the fields last reached the store. */
  savedAt = $state<number | null>(null);

  private dirty = false;
  /** Opened by compose in this window and not touched since: closing it leaves no draft behind. */
  private pristine = false;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private chain: Promise<unknown> = Promise.resolve();
  /** Files attached in this window, by attachment id: attached again when From changes. */
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- bytes kept aside, never rendered
  private files = new Map<number, File>();

  constructor(
    private readonly backend: Backend,
    private readonly saveMs = 1000,
    /** Each account's plain-text signature (Settings.signatures). */
    private readonly signatures: () => Record<string, string> = () => ({}),
  ) {}

  get isOpen(): boolean {
    return this.draft !== null;
  }

  /** Opens a new draft; the draft already open is saved and closed first. */
  async start(request: ComposeRequest): Promise<boolean> {
    const opened = await this.opening(() => this.backend.compose(request));
    this.pristine = opened;
    return opened;
  }

  /** Opens a message of the Drafts folder to go on writing it. */
  async openDraft(messageId: number): Promise<boolean> {
    return this.opening(() => this.backend.openDraft(messageId));
  }

  /** Shows a draft that came back (Undo, a refusal) in the composer. */
  async reopen(draft: Draft): Promise<boolean> {
    return this.opening(async () => draft);
  }

  private async opening(get: () => Promise<Draft>): Promise<boolean> {
    if (this.draft && !(await this.close())) return false;
    this.busy = true;
    try {
      this.load(await get());
      return true;
    } catch (err) {
      // With nothing open the composer cannot show it: the caller gets false and error says why.
      this.error = toApiError(err).message;
      return false;
    } finally {
      this.busy = false;
    }
  }

  private load(draft: Draft): void {
    const { editable, quote } = splitQuote(draft.bodyHtml);
    this.draft = draft;
    this.to = draft.to;
    this.cc = draft.cc;
    this.bcc = draft.bcc;
    this.subject = draft.subject;
    this.body = editable;
    this.quote = quote;
    this.error = draft.state === 'failed' ? (draft.error ?? 'The provider refused this message') : null;
    this.savedAt = null;
    this.dirty = false;
    this.pristine = false;
    this.files.clear();
    this.generation += 1;
  }

  /** The user changed fields: saved `saveMs` after the last change. */
  edit(fields: Partial<ComposerFields>): void {
    if (!this.draft) return;
    if (fields.to) this.to = fields.to;
    if (fields.cc) this.cc = fields.cc;
    if (fields.bcc) this.bcc = fields.bcc;
    if (fields.subject !== undefined) this.subject = fields.subject;
    if (fields.body !== undefined) this.body = fields.body;
    this.dirty = true;
    this.pristine = false;
    this.clearTimer();
    this.timer = setTimeout(() => void this.flush(), this.saveMs);
  }

  /** What save_draft receives now. */
  snapshot(): DraftEdit {
    return {
      to: $state.snapshot(this.to) as Address[],
      cc: $state.snapshot(this.cc) as Address[],
      bcc: $state.snapshot(this.bcc) as Address[],
      subject: this.subject,
      bodyHtml: this.body + this.quote,
    };
  }

  /** Saves what changed since the last save; resolves to the refusal, or null. */
  flush(): Promise<string | null> {
    this.clearTimer();
    const run = async (): Promise<string | null> => {
      const draft = this.draft;
      if (!draft || !this.dirty) return null;
      this.dirty = false;
      this.saving = true;
      try {
        const saved = await this.backend.saveDraft(draft.id, this.snapshot());
        if (this.draft?.id === saved.id) {
          this.draft = { ...this.draft, state: saved.state, attachments: saved.attachments, updatedAt: saved.updatedAt };
          this.savedAt = Date.now();
        }
        return null;
      } catch (err) {
        if (this.draft?.id === draft.id) this.dirty = true;
        const message = `Couldn't save the draft: ${toApiError(err).message}`;
        this.error = message;
        return message;
      } finally {
        this.saving = false;
      }
    };
    const next = this.chain.then(run, run);
    this.chain = next;
    return next;
  }

  /**
   * Saves and closes (Esc); stays open, saying why, when the save is refused.
   * A draft opened here and never touched is discarded instead (as other
   * clients do), so a stray r or c leaves nothing in Drafts.
   */
  async close(): Promise<boolean> {
    if (!this.draft) return true;
    if (this.pristine && this.attaching === 0) return this.discard();
    const problem = await this.flush();
    if (problem) return false;
    this.clear();
    return true;
  }

  /** Deletes the draft here and at the provider, and closes. */
  async discard(): Promise<boolean> {
    const draft = this.draft;
    if (!draft) return true;
    this.clearTimer();
    this.dirty = false;
    this.busy = true;
    try {
      await this.chain.catch(() => undefined);
      await this.backend.discardDraft(draft.id);
      this.clear();
      return true;
    } catch (err) {
      this.error = `Couldn't discard the draft: ${toApiError(err).message}`;
      return false;
    } finally {
      this.busy = false;
    }
  }

  /**
   * Saves, then sends: resolves to the queued draft (the composer closes),
   * or null with the refusal (no recipient, a bad address, too large) shown.
   */
  async send(): Promise<Draft | null> {
    const draft = this.draft;
    if (!draft || this.busy) return null;
    this.busy = true;
    try {
      const problem = await this.flush();
      if (problem) return null;
      if (this.attaching > 0) {
        this.error = 'Wait for the attachments to finish';
        return null;
      }
      const queued = await this.backend.sendDraft(draft.id);
      this.clear();
      return queued;
    } catch (err) {
      this.error = toApiError(err).message;
      return null;
    } finally {
      this.busy = false;
    }
  }

  /** Attaches files one by one; a refusal (tooLarge) is shown and the rest still go. */
  async attach(files: File[]): Promise<void> {
    const draft = this.draft;
    if (!draft) return;
    this.error = null;
    this.pristine = false;
    for (const file of files) {
      this.attaching += 1;
      try {
        const bytes = await fileBytes(file);
        const updated = await this.backend.attachFile(draft.id, { name: file.name, type: file.type, bytes });
        if (this.draft?.id !== draft.id) return;
        const before = idSet(this.draft.attachments.map((a) => a.id));
        for (const a of updated.attachments) if (!before.has(a.id)) this.files.set(a.id, file);
        this.draft = { ...this.draft, attachments: updated.attachments, state: updated.state };
      } catch (err) {
        if (this.draft?.id === draft.id) this.error = toApiError(err).message;
      } finally {
        this.attaching -= 1;
      }
    }
  }

  async detach(attachmentId: number): Promise<void> {
    const draft = this.draft;
    if (!draft) return;
    try {
      const updated = await this.backend.detachFile(draft.id, attachmentId);
      this.files.delete(attachmentId);
      if (this.draft?.id === draft.id) this.draft = { ...this.draft, attachments: updated.attachments };
    } catch (err) {
      this.error = `Couldn't remove the attachment: ${toApiError(err).message}`;
    }
  }

  /**
   * Sends from another account: a draft has one account, so a new one is
   * composed from it (the same kind and message), what was written moves
   * over with the other account's signature, files attached here go again,
   * and the old draft is discarded.
   */
  async changeAccount(accountId: number): Promise<void> {
    const old = this.draft;
    if (!old || old.accountId === accountId || this.busy) return;
    this.busy = true;
    try {
      await this.flush();
      const fresh = await this.backend.compose({ kind: old.kind, messageId: old.sourceMessageId, accountId });
      const quote = splitQuote(fresh.bodyHtml).quote || this.quote;
      const body = swapSignature(this.body, this.signatures()[String(accountId)]);
      let next = await this.backend.saveDraft(fresh.id, { ...this.snapshot(), bodyHtml: body + quote });
      const held = old.attachments.map((a) => this.files.get(a.id));
      const left = held.filter((f) => f === undefined).length;
      for (const file of held) {
        if (!file) continue;
        next = await this.backend.attachFile(fresh.id, {
          name: file.name,
          type: file.type,
          bytes: await fileBytes(file),
        });
      }
      await this.backend.discardDraft(old.id).catch(() => undefined);
      const files = [...this.files.values()];
      const edits = this.snapshot();
      this.load(next);
      // What the user wrote stays as it was typed (load took the saved copy).
      this.to = edits.to;
      this.cc = edits.cc;
      this.bcc = edits.bcc;
      this.subject = edits.subject;
      this.body = body;
      this.quote = quote;
      next.attachments.forEach((a, i) => {
        const f = files[i];
        if (f) this.files.set(a.id, f);
      });
      if (left > 0) this.error = `${left} attachment${left === 1 ? '' : 's'} stayed behind: attach ${left === 1 ? 'it' : 'them'} again`;
    } catch (err) {
      this.error = `Couldn't switch accounts: ${toApiError(err).message}`;
    } finally {
      this.busy = false;
    }
  }

  /** Closes without saving (after send or discard). */
  private clear(): void {
    this.clearTimer();
    this.dirty = false;
    this.pristine = false;
    this.draft = null;
    this.to = [];
    this.cc = [];
    this.bcc = [];
    this.subject = '';
    this.body = '';
    this.quote = '';
    this.error = null;
    this.savedAt = null;
    this.files.clear();
  }

  private clearTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  dispose(): void {
    this.clearTimer();
  }
}
