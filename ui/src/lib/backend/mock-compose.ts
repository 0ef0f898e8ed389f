// What the MockBackend computes where Rust's compose module would: reply
// subjects and recipients, the quoted original under its attribution line,
// signatures, address checks, the providers' size limits and the contacts the
// To field suggests. Kept close to src/compose/quote.rs and limits.rs so the
// browser demo and the unit tests see what the app shows.
import type { Address } from '../../bindings/Address';
import type { ComposeKind } from '../../bindings/ComposeKind';
import type { Contact } from '../../bindings/Contact';
import type { ProviderKind } from '../../bindings/ProviderKind';
import { escapeHtml } from './mock-content';

function prefixed(prefix: string, known: string[], subject: string): string {
  const trimmed = subject.trim();
  const lower = trimmed.toLowerCase();
  return known.some((k) => lower.startsWith(k)) ? trimmed : `${prefix}${trimmed}`;
}

/** One `Re: `, never `Re: Re: `. */
export const replySubject = (subject: string): string => prefixed('Re: ', ['re:', 'aw:', 'sv:'], subject);
export const forwardSubject = (subject: string): string => prefixed('Fwd: ', ['fwd:', 'fw:'], subject);

/** The original a reply or forward starts from. */
export interface MockOriginal {
  from: Address;
  to: Address[];
  cc: Address[];
  date: number;
  subject: string;
  /** Its body as HTML (sanitised). */
  html: string;
}

/** To and Cc of an answer, without the user's own address and without repeats. */
export function replyRecipients(kind: ComposeKind, original: MockOriginal, own: string): { to: Address[]; cc: Address[] } {
  if (kind === 'new' || kind === 'forward') return { to: [], cc: [] };
  const mine = (a: Address) => a.address.toLowerCase() === own.toLowerCase();
  const fromMe = mine(original.from);
  const to = fromMe ? [...original.to] : [original.from];
  const cc: Address[] = [];
  if (kind === 'replyAll') {
    to.push(...original.to);
    cc.push(...original.cc);
  }
  const seen = new Set<string>();
  const keep = (a: Address) => {
    const key = a.address.toLowerCase();
    if (mine(a) || seen.has(key)) return false;
    seen.add(key);
    return true;
  };
  const keptTo = to.filter(keep);
  const keptCc = cc.filter(keep);
  if (keptTo.length === 0 && fromMe) keptTo.push(original.from);
  return { to: keptTo, cc: keptCc };
}

const display = (a: Address) => (a.name?.trim() ? `${a.name} <${a.address}>` : a.address);

/** "On Tue, 3 Dec 2026 at 21:04, Sam <sam@example.com> wrote:" */
export function attribution(original: MockOriginal): string {
  const d = new Date(original.date);
  const day = d.toLocaleDateString('en-GB', { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric' });
  const time = d.toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit' });
  return `On ${day} at ${time}, ${display(original.from)} wrote:`;
}

/** The quoted original below the space the user writes in. */
export function quoteHtml(kind: ComposeKind, original: MockOriginal): string {
  if (kind === 'new') return '';
  if (kind === 'forward') {
    const list = (v: Address[]) => v.map(display).join(', ');
    let head =
      `---------- Forwarded message ---------<br>From: ${escapeHtml(display(original.from))}` +
      `<br>Date: ${escapeHtml(new Date(original.date).toUTCString())}` +
      `<br>Subject: ${escapeHtml(original.subject)}<br>To: ${escapeHtml(list(original.to))}`;
    if (original.cc.length > 0) head += `<br>Cc: ${escapeHtml(list(original.cc))}`;
    return `<div class="ember-forward"><p>${head}</p>${original.html}</div>`;
  }
  return (
    `<div class="ember-quote"><p>${escapeHtml(attribution(original))}</p>` +
    `<blockquote type="cite" style="margin:0 0 0 .8ex;border-left:1px solid #ccc;padding-left:1ex">${original.html}</blockquote></div>`
  );
}

/** A plain-text signature as HTML: the "-- " line, then the text, escaped. */
export function signatureHtml(signature: string | undefined): string {
  const text = (signature ?? '').trimEnd();
  if (!text.trim()) return '';
  return `<div class="ember-signature">-- <br>${text.split('\n').map(escapeHtml).join('<br>')}</div>`;
}

/** Plausibly an address: something@domain.tld, no spaces or brackets. */
export function validAddress(address: string): boolean {
  return /^[^\s@<>(),;:"]+@[^\s@<>(),;:"]+\.[^\s@<>(),;:"]+$/.test(address.trim());
}

const MB = 1024 * 1024;

/** The providers' attachment limits (bytes): one file, all files together. */
export function sizeLimits(provider: ProviderKind): { attachment: number; total: number } {
  return provider === 'gmail' ? { attachment: 25 * MB, total: 25 * MB } : { attachment: 3 * MB, total: 35 * MB };
}

/** Rust's sentence for a file or a set of files past the limit, or null. */
export function sizeError(limits: { attachment: number; total: number }, sizes: [string, number][]): string | null {
  const mb = (b: number) => b / MB;
  for (const [name, size] of sizes) {
    if (size > limits.attachment) {
      return `${name} is ${mb(size).toFixed(1)} MB; this account sends files of at most ${mb(limits.attachment).toFixed(0)} MB`;
    }
  }
  const total = sizes.reduce((n, [, s]) => n + s, 0);
  if (total > limits.total) {
    return `the attachments come to ${mb(total).toFixed(1)} MB; this account sends at most ${mb(limits.total).toFixed(0)} MB per message`;
  }
  return null;
}

/** Text of an HTML fragment (for a snippet). */
export function htmlText(html: string): string {
  return html
    .replace(/<(br|\/p|\/div|\/li|\/blockquote)[^>]*>/gi, ' ')
    .replace(/<[^>]*>/g, '')
    .replace(/&nbsp;/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .trim();
}

/** Tallies addresses into contacts: who the user wrote to, who wrote to them, and when. */
export class ContactBook {
  private readonly byAddress = new Map<string, Contact>();

  private entry(a: Address): Contact {
    const key = a.address.toLowerCase();
    let c = this.byAddress.get(key);
    if (!c) {
      c = { name: a.name, address: a.address, sent: 0, received: 0, lastSeen: 0 };
      this.byAddress.set(key, c);
    }
    if (!c.name && a.name) c.name = a.name;
    return c;
  }

  received(a: Address, at: number): void {
    const c = this.entry(a);
    c.received += 1;
    c.lastSeen = Math.max(c.lastSeen, at);
  }

  sent(a: Address, at: number): void {
    const c = this.entry(a);
    c.sent += 1;
    c.lastSeen = Math.max(c.lastSeen, at);
  }

  /** Addresses or name words starting with `prefix`, most written-to first, then most heard from, then latest. */
  suggest(prefix: string, limit: number, except: Set<string> = new Set()): Contact[] {
    const p = prefix.trim().toLowerCase();
    if (!p) return [];
    const matches = (c: Contact) =>
      c.address.toLowerCase().startsWith(p) ||
      (c.name ?? '')
        .toLowerCase()
        .split(/\s+/)
        .some((w) => w.startsWith(p)) ||
      (c.name ?? '').toLowerCase().startsWith(p);
    return [...this.byAddress.values()]
      .filter((c) => !except.has(c.address.toLowerCase()) && matches(c))
      .sort((a, b) => b.sent - a.sent || b.received - a.received || b.lastSeen - a.lastSeen)
      .slice(0, limit);
  }
}
