// Work-item logic: the query a filter makes, grouping by state in process
// order, the rows the list shows, labels, merged links, and comment documents.
import { describe, expect, it } from 'vitest';
import type { LinkedWorkItem } from '../bindings/LinkedWorkItem';
import { workItem } from '../test/fixtures';
import {
  commentBody,
  describeEdit,
  estimateFrameHeight,
  FRAME_CSP,
  groupByState,
  itemsInListOrder,
  iterationName,
  mergeLinks,
  stateTone,
  workItemQuery,
  workItemRows,
  WORK_ITEM_LIMIT,
} from './workItems';

describe('workItemQuery', () => {
  it('sends the membership and the text as typed, trimmed; blank text is no search', () => {
    expect(workItemQuery({ membership: null, text: '' })).toEqual({
      accountId: null,
      membership: null,
      search: null,
      limit: WORK_ITEM_LIMIT,
    });
    expect(workItemQuery({ membership: 'assigned', text: '  type:bug state:"In Progress" crash ' }, 50)).toEqual({
      accountId: null,
      membership: 'assigned',
      search: 'type:bug state:"In Progress" crash',
      limit: 50,
    });
    expect(workItemQuery({ membership: 'followed', text: '   ', accountId: 3 })).toMatchObject({
      accountId: 3,
      membership: 'followed',
      search: null,
    });
  });
});

describe('groupByState', () => {
  const items = [
    workItem(1, { state: 'Closed' }),
    workItem(2, { state: 'Active' }),
    workItem(3, { state: 'New' }),
    workItem(4, { state: 'Active' }),
    workItem(5, { state: 'Waiting on customer' }),
    workItem(6, { state: 'resolved' }),
    workItem(7, { state: 'Removed' }),
    workItem(8, { state: 'active' }),
  ];

  it('orders groups as work moves (custom states with the work in progress) and keeps the list order inside', () => {
    const groups = groupByState(items);
    expect(groups.map((g) => [g.state, g.items.map((w) => w.id)])).toEqual([
      ['New', [3]],
      ['Active', [2, 4, 8]],
      ['Waiting on customer', [5]],
      ['resolved', [6]],
      ['Closed', [1]],
      ['Removed', [7]],
    ]);
  });

  it('gives the list its rows: a header with the count before each group, items numbered across groups', () => {
    const groups = groupByState([workItem(1, { state: 'Active' }), workItem(2, { state: 'New' }), workItem(3, { state: 'Active' })]);
    expect(workItemRows(groups)).toEqual([
      { kind: 'group', key: 'group:New', state: 'New', count: 1 },
      { kind: 'item', key: 2, item: expect.objectContaining({ id: 2 }), position: 0 },
      { kind: 'group', key: 'group:Active', state: 'Active', count: 2 },
      { kind: 'item', key: 1, item: expect.objectContaining({ id: 1 }), position: 1 },
      { kind: 'item', key: 3, item: expect.objectContaining({ id: 3 }), position: 2 },
    ]);
    expect(itemsInListOrder(groups).map((w) => w.id)).toEqual([2, 1, 3]);
    expect(workItemRows([])).toEqual([]);
  });

  it('colours states by family', () => {
    expect(['New', 'To Do', 'Active', 'Committed', 'Resolved', 'Done', 'Closed', 'Removed', 'Odd'].map(stateTone)).toEqual([
      'proposed',
      'proposed',
      'active',
      'active',
      'resolved',
      'done',
      'done',
      'removed',
      'active',
    ]);
  });
});

describe('labels', () => {
  it('names an edit in a sentence', () => {
    expect(describeEdit({ kind: 'setState', state: 'Resolved' })).toBe('set the state to Resolved');
    expect(describeEdit({ kind: 'assign', to: 'Grace Hopper' })).toBe('assign it to Grace Hopper');
    expect(describeEdit({ kind: 'assign', to: null })).toBe('unassign it');
    expect(describeEdit({ kind: 'setPriority', priority: 1 })).toBe('set the priority to 1');
    expect(describeEdit({ kind: 'comment', text: ' Looks\n good ' })).toBe('comment “Looks good”');
    expect(describeEdit({ kind: 'comment', text: 'x'.repeat(200) })).toHaveLength(90);
  });

  it('shows the last part of an iteration path', () => {
    expect(iterationName('ember\\Release 1\\Sprint 14')).toBe('Sprint 14');
    expect(iterationName('ember')).toBe('ember');
    expect(iterationName(null)).toBeNull();
  });
});

describe('mergeLinks', () => {
  const link = (itemId: number, source: string, item: LinkedWorkItem['item'] = null): LinkedWorkItem => ({
    itemId,
    source,
    item,
  });

  it('keeps one entry per item, its strongest reference, strongest first', () => {
    const synced = workItem(1, { itemId: 7 });
    expect(
      mergeLinks([
        [link(9, 'mention'), link(7, 'mention', synced)],
        [link(7, 'notification'), link(3, 'url')],
      ]),
    ).toEqual([link(7, 'notification', synced), link(3, 'url'), link(9, 'mention')]);
  });
});

describe('commentBody', () => {
  it('wraps the sanitised HTML in a whole document that forbids scripts and remote loads', () => {
    const body = commentBody('<p>Hello <b>there</b></p>');
    expect(body.html).toMatch(/^<!DOCTYPE html><html><head>/);
    expect(body.html).toContain(`<meta http-equiv="Content-Security-Policy" content="${FRAME_CSP}">`);
    expect(FRAME_CSP).toContain("script-src 'none'");
    expect(FRAME_CSP).not.toMatch(/img-src[^;]*https?:/);
    expect(body.html).toContain('<base target="_blank">');
    expect(body.html).toContain('<body><p>Hello <b>there</b></p></body>');
    expect(body).toMatchObject({ remoteBlocked: 0, remoteAllowed: false });
  });

  it('sizes a frame by the text it holds, within bounds', () => {
    const one = estimateFrameHeight(commentBody('<p>Short.</p>').html);
    const three = estimateFrameHeight(commentBody('<p>One</p><p>Two</p><p>Three</p>').html);
    const long = estimateFrameHeight(commentBody(`<p>${'word '.repeat(2000)}</p>`).html);
    expect(one).toBeGreaterThanOrEqual(56);
    expect(three).toBeGreaterThan(one);
    expect(long).toBe(420);
    expect(estimateFrameHeight('<p>x</p><script>' + 'y'.repeat(5000) + '</script>')).toBe(one);
    expect(estimateFrameHeight('<img src="data:,">')).toBeGreaterThan(150);
  });
});
