// Composer logic without Svelte: typed and pasted addresses, the quote split
// off the body, HTML made safe to edit, signatures and sizes.
import { describe, expect, it } from 'vitest';
import {
  addAddresses,
  editableHtml,
  formatSize,
  isBlank,
  looksLikeAddressList,
  parseAddress,
  parseAddresses,
  signatureHtml,
  splitQuote,
  swapSignature,
  validAddress,
} from './compose';

describe('addresses', () => {
  it('reads the usual forms of one address', () => {
    expect(parseAddress(' a@b.co ')).toEqual({ name: null, address: 'a@b.co' });
    expect(parseAddress('Ada Lovelace <ada@example.com>')).toEqual({ name: 'Ada Lovelace', address: 'ada@example.com' });
    expect(parseAddress('"Lee, Sam" <sam@example.com>')).toEqual({ name: 'Lee, Sam', address: 'sam@example.com' });
    expect(parseAddress('<x@y.z>')).toEqual({ name: null, address: 'x@y.z' });
    expect(parseAddress('mailto:x@y.z')).toEqual({ name: null, address: 'x@y.z' });
    expect(parseAddress('  ')).toBeNull();
  });

  it('splits a pasted list on commas, semicolons and lines, not inside quotes or brackets', () => {
    expect(parseAddresses('"Lee, Sam" <sam@example.com>; kim@example.net\nalan@example.org,,')).toEqual([
      { name: 'Lee, Sam', address: 'sam@example.com' },
      { name: null, address: 'kim@example.net' },
      { name: null, address: 'alan@example.org' },
    ]);
    expect(looksLikeAddressList('a@b.c, d@e.f')).toBe(true);
    expect(looksLikeAddressList('Ada <a@b.c>')).toBe(true);
    expect(looksLikeAddressList('ada')).toBe(false);
  });

  it('checks addresses and adds without repeats', () => {
    expect(validAddress('a@b.co')).toBe(true);
    expect(validAddress('a@b')).toBe(false);
    expect(validAddress('a b@c.d')).toBe(false);
    const list = addAddresses([{ name: null, address: 'A@b.co' }], [
      { name: 'A', address: 'a@B.co' },
      { name: null, address: 'c@d.ef' },
    ]);
    expect(list.map((a) => a.address)).toEqual(['A@b.co', 'c@d.ef']);
  });
});

describe('the body', () => {
  it('keeps the quoted original apart from what the user writes', () => {
    const sig = '<div class="ember-signature">-- <br>Ada</div>';
    const quote = '<div class="ember-quote"><p>On …, Sam wrote:</p><blockquote>hi</blockquote></div>';
    expect(splitQuote(`<p><br></p>${sig}${quote}`)).toEqual({ editable: `<p><br></p>${sig}`, quote });
    const fwd = '<div class="ember-forward"><p>---------- Forwarded message</p></div>';
    expect(splitQuote(`<p>x</p>${fwd}`)).toEqual({ editable: '<p>x</p>', quote: fwd });
    expect(splitQuote('<p>only</p>')).toEqual({ editable: '<p>only</p>', quote: '' });
  });

  it('lets nothing active or remote into the editor', () => {
    const html = editableHtml(
      '<p onclick="x()">Hi <a href="javascript:alert(1)">a</a> <a href="https://ok.example">b</a></p>' +
        '<img src="https://track.example/p.gif"><img src="data:image/png;base64,AAAA">' +
        '<script>alert(1)</script><iframe src="https://x"></iframe><div style="background:url(https://t.example/x)">s</div>',
    );
    expect(html).not.toMatch(/onclick|javascript:|track\.example|<script|<iframe|url\(/);
    expect(html).toContain('href="https://ok.example"');
    expect(html).toContain('src="data:image/png;base64,AAAA"');
  });

  it('builds and swaps signatures as Rust does', () => {
    expect(signatureHtml('Ada\n<b>x</b>\n')).toBe('<div class="ember-signature">-- <br>Ada<br>&lt;b&gt;x&lt;/b&gt;</div>');
    expect(signatureHtml('  ')).toBe('');
    const body = '<p>Hi</p><div class="ember-signature">-- <br>Ada</div>';
    expect(swapSignature(body, 'Work Ada')).toBe('<p>Hi</p><div class="ember-signature">-- <br>Work Ada</div>');
    expect(swapSignature(body, undefined)).toBe('<p>Hi</p>');
    expect(swapSignature('<p>Hi</p>', 'S')).toBe('<p>Hi</p><div class="ember-signature">-- <br>S</div>');
    expect(isBlank('<p><br></p><div class="ember-signature">-- <br>Ada</div>')).toBe(true);
    expect(isBlank('<p>x</p>')).toBe(false);
  });

  it('formats sizes', () => {
    expect(formatSize(900)).toBe('900 B');
    expect(formatSize(2048)).toBe('2 KB');
    expect(formatSize(4 * 1024 * 1024)).toBe('4.0 MB');
  });
});
