// The mock's writing of mail, as the demo and the UI tests rely on it: replies
// answer the right people with Re: and the quote, sending queues for the undo
// window and then files the message in Sent, in its conversation.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { account, folder, message } from '../../test/fixtures';
import { MockBackend } from './mock';
import { replySubject, forwardSubject, sizeError, sizeLimits } from './mock-compose';

const ME = 'me@example.com';

function backend() {
  return new MockBackend({
    accounts: [account(1, { address: ME }), account(2, { provider: 'ado', address: 'contoso' })],
    messages: [message(5, { threadId: 3, subject: 'Plans', from: { name: 'Sam', address: 'sam@example.com' } })],
    details: [
      {
        summary: message(5, { threadId: 3, subject: 'Plans', from: { name: 'Sam', address: 'sam@example.com' } }),
        to: [{ name: null, address: ME }, { name: null, address: 'kim@example.com' }],
        cc: [{ name: null, address: 'lee@example.com' }],
        folders: [],
        bodyText: 'see <you>',
        html: false,
        attachments: [],
      },
    ],
    folderList: [folder(11, { role: 'sent', name: 'Sent' })],
    settings: { signatures: { '1': 'Ada' } },
  });
}

afterEach(() => {
  vi.useRealTimers();
});

describe('mock compose', () => {
  it('prefixes subjects once', () => {
    expect(replySubject('Plans')).toBe('Re: Plans');
    expect(replySubject('RE: Plans')).toBe('RE: Plans');
    expect(forwardSubject('Re: Plans')).toBe('Fwd: Re: Plans');
  });

  it('replies to the sender, reply-all to everyone but me, forward to nobody; the quote and signature follow', async () => {
    const b = backend();
    const reply = await b.compose({ kind: 'reply', messageId: 5, accountId: null });
    expect(reply.to.map((a) => a.address)).toEqual(['sam@example.com']);
    expect(reply.subject).toBe('Re: Plans');
    expect(reply.bodyHtml).toMatch(/^<p><br><\/p><div class="ember-signature">-- <br>Ada<\/div><div class="ember-quote">/);
    expect(reply.bodyHtml).toContain('Sam &lt;sam@example.com&gt; wrote:');
    expect(reply.bodyHtml).toContain('see &lt;you&gt;');
    const all = await b.compose({ kind: 'replyAll', messageId: 5, accountId: null });
    expect(all.to.map((a) => a.address)).toEqual(['sam@example.com', 'kim@example.com']);
    expect(all.cc.map((a) => a.address)).toEqual(['lee@example.com']);
    const fwd = await b.compose({ kind: 'forward', messageId: 5, accountId: null });
    expect(fwd.to).toEqual([]);
    expect(fwd.subject).toBe('Fwd: Plans');
    expect(fwd.bodyHtml).toContain('Forwarded message');
    await expect(b.compose({ kind: 'new', messageId: null, accountId: 2 })).rejects.toMatchObject({ code: 'invalidInput' });
  });

  it('queues a sent draft for the undo window, then files it in Sent in the thread', async () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const b = backend();
    const d = await b.compose({ kind: 'reply', messageId: 5, accountId: null });
    await b.saveDraft(d.id, { to: d.to, cc: [], bcc: [], subject: d.subject, bodyHtml: '<p>Yes</p>' });
    const queued = await b.sendDraft(d.id);
    expect(queued.state).toBe('queued');
    expect(queued.sendAt).toBe(1_000_000 + 5_000);
    await expect(b.saveDraft(d.id, { to: [], cc: [], bcc: [], subject: '', bodyHtml: '' })).rejects.toMatchObject({
      code: 'conflict',
    });
    vi.advanceTimersByTime(4_000);
    expect((await b.listDrafts(null)).map((x) => x.state)).toEqual(['queued']);
    vi.advanceTimersByTime(1_100);
    expect(await b.listDrafts(null)).toEqual([]);
    expect(b.sentDrafts.map((x) => x.subject)).toEqual(['Re: Plans']);
    const sent = b.messages.at(-1);
    expect(sent).toMatchObject({ subject: 'Re: Plans', threadId: 3, from: { address: ME } });
    expect(b.folders.get(11)?.has(sent?.id ?? -1)).toBe(true);
    await expect(b.undoSend(d.id)).rejects.toMatchObject({ code: 'conflict' });
    // Who the user wrote to now ranks first.
    expect((await b.suggestContacts('s', 5)).map((c) => [c.address, c.sent])).toEqual([['sam@example.com', 1]]);
  });

  it('undo takes a queued draft back; a send without recipients is refused', async () => {
    const b = backend();
    b.autoSendDrafts = false;
    const d = await b.compose({ kind: 'new', messageId: null, accountId: null });
    await expect(b.sendDraft(d.id)).rejects.toEqual({ code: 'invalidInput', message: 'add at least one recipient' });
    await b.saveDraft(d.id, { to: [{ name: null, address: 'x' }], cc: [], bcc: [], subject: '', bodyHtml: '' });
    await expect(b.sendDraft(d.id)).rejects.toEqual({ code: 'invalidInput', message: '"x" is not an email address' });
    await b.saveDraft(d.id, { to: [{ name: null, address: 'x@y.zz' }], cc: [], bcc: [], subject: '', bodyHtml: '' });
    await b.sendDraft(d.id);
    expect((await b.undoSend(d.id)).state).toBe('editing');
  });

  it('says which file is past the provider limit', () => {
    const mb = 1024 * 1024;
    expect(sizeError(sizeLimits('gmail'), [['a.pdf', 20 * mb]])).toBeNull();
    expect(sizeError(sizeLimits('gmail'), [['a.pdf', 20 * mb], ['b.pdf', 6 * mb]])).toBe(
      'the attachments come to 26.0 MB; this account sends at most 25 MB per message',
    );
    expect(sizeError(sizeLimits('graph'), [['big.zip', 4 * mb]])).toBe(
      'big.zip is 4.0 MB; this account sends files of at most 3 MB',
    );
  });
});
