// Composer logic without Svelte: addresses typed or pasted into chips, the
// body split into what the user writes and the quoted original below it,
// HTML made safe to edit in the window, signatures, sizes and titles.
import type { Address } from '../bindings/Address';
import type { ComposeKind } from '../bindings/ComposeKind';

/** Plausibly an address: something@domain.tld, no spaces or brackets (Rust checks again on send). */
export function validAddress(address: string): boolean {
  return /^[^\s@<>(),;:"]+@[^\s@<>(),;:"]+\.[^\s@<>(),;:"]+$/.test(address.trim());
}

/** One typed recipient: `Name <a@b.c>`, `"Name" <a@b.c>`, `<a@b.c>` or `a@b.c`. */
export function parseAddress(text: string): Address | null {
  const t = text.trim();
  if (!t) return null;
  const angle = /^(.*)<([^<>]+)>$/.exec(t);
  if (angle) {
    const name = (angle[1] ?? '').trim().replace(/^"(.*)"$/, '$1').trim();
    return { name: name || null, address: (angle[2] ?? '').trim() };
  }
  return { name: null, address: t.replace(/^mailto:/i, '') };
}

/**
 * Several recipients as pasted: separated by commas, semicolons or new
 * lines, where a comma inside a quoted name does not separate.
 */
export function parseAddresses(text: string): Address[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  let angled = false;
  for (const c of text) {
    if (c === '"') quoted = !quoted;
    if (c === '<' && !quoted) angled = true;
    if (c === '>' && !quoted) angled = false;
    if (!quoted && !angled && (c === ',' || c === ';' || c === '\n' || c === '\r')) {
      parts.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  parts.push(current);
  return parts.map(parseAddress).filter((a): a is Address => a !== null);
}

/** Whether pasted text holds more than one recipient (or a `Name <address>` form worth parsing). */
export function looksLikeAddressList(text: string): boolean {
  return /[,;\n]/.test(text.trim()) || /<[^<>]+@[^<>]+>/.test(text);
}

/** A chip's label: the name when there is one. */
export function chipLabel(a: Address): string {
  return a.name?.trim() || a.address;
}

/** `Name <address>` or the bare address. */
export function formatAddress(a: Address): string {
  return a.name?.trim() ? `${a.name.trim()} <${a.address}>` : a.address;
}

/** Adds `more` to `list`, leaving out addresses already there (case-insensitively). */
export function addAddresses(list: Address[], more: Address[]): Address[] {
  const seen = new Set(list.map((a) => a.address.toLowerCase()));
  const out = [...list];
  for (const a of more) {
    const key = a.address.toLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(a);
  }
  return out;
}

const QUOTE = /<div class="ember-(?:quote|forward)"/i;

/**
 * The draft's body as the composer shows it: what the user writes (with the
 * signature) in the editor, the quoted original apart below it. Rust builds
 * replies and forwards as `opening + signature + <div class="ember-quote|ember-forward">…</div>`.
 */
export function splitQuote(bodyHtml: string): { editable: string; quote: string } {
  const m = QUOTE.exec(bodyHtml);
  if (!m) return { editable: bodyHtml, quote: '' };
  return { editable: bodyHtml.slice(0, m.index), quote: bodyHtml.slice(m.index) };
}

const DROP = 'script,style,iframe,frame,frameset,object,embed,form,input,button,select,textarea,link,meta,base,svg,math,audio,video';

/**
 * HTML made safe to put into the window's own editable DOM: the markup was
 * sanitised in Rust, but it may come from another device's draft, so here
 * nothing active survives either and no remote image loads (the window's CSP
 * would allow https images, and a tracker would learn the draft was opened).
 * Parsed with DOMParser, whose document loads nothing and runs nothing.
 */
export function editableHtml(html: string): string {
  if (!html.trim()) return '';
  const doc = new DOMParser().parseFromString(`<body>${html}</body>`, 'text/html');
  for (const el of doc.body.querySelectorAll(DROP)) el.remove();
  for (const el of doc.body.querySelectorAll('*')) {
    for (const attr of [...el.attributes]) {
      const name = attr.name.toLowerCase();
      const value = attr.value.trim();
      if (name.startsWith('on') || name === 'srcset' || name === 'background' || name === 'contenteditable') {
        el.removeAttribute(attr.name);
      } else if ((name === 'href' || name === 'src') && /^(javascript|vbscript|data:text)/i.test(value)) {
        el.removeAttribute(attr.name);
      } else if (name === 'src' && !/^(data:image\/|cid:)/i.test(value)) {
        el.removeAttribute(attr.name);
      } else if (name === 'style' && /url\s*\(/i.test(value)) {
        el.removeAttribute(attr.name);
      }
    }
  }
  return doc.body.innerHTML;
}

export const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

/** A plain-text signature as the composer shows it (as Rust's `signature_html` builds it). */
export function signatureHtml(signature: string | undefined): string {
  const text = (signature ?? '').trimEnd();
  if (!text.trim()) return '';
  return `<div class="ember-signature">-- <br>${text.split('\n').map(escapeHtml).join('<br>')}</div>`;
}

const SIGNATURE = /<div class="ember-signature">[\s\S]*?<\/div>/i;

/** The editor's HTML with the signature swapped for another account's (appended when it had none). */
export function swapSignature(html: string, signature: string | undefined): string {
  const next = signatureHtml(signature);
  if (SIGNATURE.test(html)) return html.replace(SIGNATURE, next);
  return next ? `${html}${next}` : html;
}

/** Whether the editor holds nothing the user wrote (only blank paragraphs and the signature). */
export function isBlank(html: string): boolean {
  const text = html
    .replace(SIGNATURE, '')
    .replace(/<[^>]*>/g, '')
    .replace(/&nbsp;/g, ' ')
    .trim();
  return text === '';
}

/** A file's bytes (FileReader where Blob.arrayBuffer is missing, as in older engines and jsdom). */
export function fileBytes(file: Blob): Promise<Uint8Array> {
  if (typeof file.arrayBuffer === 'function') return file.arrayBuffer().then((b) => new Uint8Array(b));
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(new Uint8Array(reader.result as ArrayBuffer));
    reader.onerror = () => reject(reader.error ?? new Error(`could not read the file`));
    reader.readAsArrayBuffer(file);
  });
}

/** "12 KB", "3.4 MB". */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

export function composeTitle(kind: ComposeKind): string {
  switch (kind) {
    case 'new':
      return 'New message';
    case 'reply':
      return 'Reply';
    case 'replyAll':
      return 'Reply all';
    case 'forward':
      return 'Forward';
  }
}
