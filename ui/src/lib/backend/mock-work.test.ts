// The mock's stand-ins for Rust: the work-item search language, edit checks
// and the references mail makes to work items (the browser tests rely on them).
import { describe, expect, it } from 'vitest';
import { message, workItem } from '../../test/fixtures';
import { checkEdit, findWorkItemRefs, matchesWorkSearch, parseWorkSearch } from './mock-work';

describe('parseWorkSearch', () => {
  it('reads words, phrases, exclusions and the three operators', () => {
    expect(parseWorkSearch('type:"user story" state:Active assigned:me crash "on start" -flaky')).toEqual({
      words: [
        { text: 'crash', negated: false },
        { text: 'on start', negated: false },
        { text: 'flaky', negated: true },
      ],
      types: ['user story'],
      states: ['active'],
      assigned: { kind: 'me' },
    });
    expect(parseWorkSearch('type:').types).toEqual([]);
    expect(parseWorkSearch('assigned:nobody').assigned).toEqual({ kind: 'nobody' });
  });

  it("refuses what Rust refuses, with Rust's sentences", () => {
    expect(() => parseWorkSearch('from:bob')).toThrow(
      expect.objectContaining({ code: 'invalidQuery', message: 'unknown operator from: for work items (known: type:, state:, assigned:)' }),
    );
    expect(() => parseWorkSearch('-state:closed')).toThrow(
      expect.objectContaining({ code: 'invalidQuery', message: 'state: cannot be negated' }),
    );
  });

  it('matches items', () => {
    const w = workItem(1, { itemType: 'Bug', state: 'Active', assignedTo: 'Grace Hopper', title: 'Crash on start' });
    expect(matchesWorkSearch(w, parseWorkSearch('type:bug crash'))).toBe(true);
    expect(matchesWorkSearch(w, parseWorkSearch('assigned:grace -crash'))).toBe(false);
    expect(matchesWorkSearch(w, parseWorkSearch('assigned:me'))).toBe(false);
    expect(matchesWorkSearch(w, parseWorkSearch('tray'), '<p>the tray icon</p>')).toBe(true);
  });
});

describe('checkEdit', () => {
  const w = workItem(1, { itemType: 'Bug' });
  it('accepts allowed states in their spelling, any state while none are known', () => {
    expect(checkEdit(w, { kind: 'setState', state: ' resolved ' }, ['New', 'Resolved'])).toEqual({
      kind: 'setState',
      state: 'Resolved',
    });
    expect(checkEdit(w, { kind: 'setState', state: 'Odd' }, [])).toEqual({ kind: 'setState', state: 'Odd' });
    expect(() => checkEdit(w, { kind: 'setState', state: 'Done' }, ['New'])).toThrow(
      expect.objectContaining({ code: 'invalidInput', message: 'A Bug cannot be Done; it can be: New.' }),
    );
    expect(checkEdit(w, { kind: 'assign', to: '  ' }, [])).toEqual({ kind: 'assign', to: null });
    expect(() => checkEdit(w, { kind: 'setPriority', priority: 5 }, [])).toThrow(
      expect.objectContaining({ message: 'Priority is 1 (highest) to 4, not 5.' }),
    );
  });
});

describe('findWorkItemRefs', () => {
  it('finds mentions, links and the item a notification is about, strongest first', () => {
    const mail = message(1, { subject: 'AB#12 and xAB#13', snippet: 'see AB#14.' });
    expect(findWorkItemRefs(mail, '<a href="https://dev.azure.com/o/p/_workitems/edit/14">x</a>')).toEqual([
      { itemId: 14, source: 'url' },
      { itemId: 12, source: 'mention' },
    ]);
    const notice = message(2, {
      from: { name: 'Azure DevOps', address: 'azuredevops@microsoft.com' },
      subject: 'Bug 981 - Crash on start',
    });
    expect(findWorkItemRefs(notice, '')).toEqual([{ itemId: 981, source: 'notification' }]);
  });
});
