// The keyboard map: single keys, the "g" sequences, and what is never captured.
import { describe, expect, it } from 'vitest';
import { isTyping, KeyMap, SHORTCUTS } from './shortcuts';

const key = (k: string, mods: Partial<{ ctrlKey: boolean; metaKey: boolean; altKey: boolean }> = {}) => ({
  key: k,
  ctrlKey: false,
  metaKey: false,
  altKey: false,
  ...mods,
});

describe('KeyMap', () => {
  it('maps the single-key shortcuts', () => {
    const map = new KeyMap();
    expect(['j', 'k', 'Enter', 'o', 'u', 'e', '#', 's', '/', '?'].map((k) => map.resolve(key(k)))).toEqual([
      'next',
      'previous',
      'open',
      'open',
      'toggleUnread',
      'archive',
      'trash',
      'toggleStar',
      'search',
      'help',
    ]);
  });

  it('reads g then i / c / w as navigation within the time window', () => {
    const map = new KeyMap(1000);
    expect(map.resolve(key('g'), 0)).toBeNull();
    expect(map.resolve(key('i'), 500)).toBe('goInbox');
    map.resolve(key('g'), 1000);
    expect(map.resolve(key('w'), 1500)).toBe('goWorkItems');
    map.resolve(key('g'), 2000);
    expect(map.resolve(key('c'), 2100)).toBe('goCategories');
    map.resolve(key('g'), 3000);
    expect(map.resolve(key('j'), 5000)).toBe('next');
  });

  it('maps c, r, a and f to writing mail, and leaves Ctrl+Enter to the composer', () => {
    const map = new KeyMap();
    expect(['c', 'r', 'a', 'f'].map((k) => map.resolve(key(k)))).toEqual(['compose', 'reply', 'replyAll', 'forward']);
    expect(SHORTCUTS.filter((s) => s.disabled)).toEqual([]);
    expect(map.resolve(key('Enter', { ctrlKey: true }))).toBeNull();
    expect(SHORTCUTS.find((s) => s.command === 'send')?.keys).toEqual(['Ctrl+Enter']);
  });

  it('never takes keys with Ctrl, Cmd or Alt (copy, paste, browser shortcuts)', () => {
    const map = new KeyMap();
    expect(map.resolve(key('e', { ctrlKey: true }))).toBeNull();
    expect(map.resolve(key('s', { metaKey: true }))).toBeNull();
    expect(map.resolve(key('j', { altKey: true }))).toBeNull();
  });
});

describe('isTyping', () => {
  it('is true in text fields, selects and editable content; false on buttons and checkboxes', () => {
    const el = (html: string) => {
      document.body.innerHTML = html;
      return document.body.firstElementChild;
    };
    expect(isTyping(el('<input type="search">'))).toBe(true);
    expect(isTyping(el('<input>'))).toBe(true);
    expect(isTyping(el('<textarea></textarea>'))).toBe(true);
    expect(isTyping(el('<select></select>'))).toBe(true);
    expect(isTyping(el('<input type="checkbox">'))).toBe(false);
    expect(isTyping(el('<button>x</button>'))).toBe(false);
    expect(isTyping(null)).toBe(false);
  });
});
