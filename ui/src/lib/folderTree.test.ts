// The sidebar's folder tree: children under their parent, in the order given,
// and never a lost folder or an endless walk, whatever the parent links say.
import { describe, expect, it } from 'vitest';
import { folderTree } from './folderTree';
import { folder } from '../test/fixtures';
import type { Folder } from '../bindings/Folder';

const shape = (folders: Folder[]) => folderTree(folders).map((n) => [n.folder.id, n.depth]);

describe('folderTree', () => {
  it('keeps a flat list (Gmail labels) as it is, all at depth 0', () => {
    expect(shape([folder(1), folder(2), folder(3)])).toEqual([
      [1, 0],
      [2, 0],
      [3, 0],
    ]);
    expect(folderTree([])).toEqual([]);
  });

  it('puts children right under their parent, siblings in the order given, wherever they were listed', () => {
    const folders = [
      folder(1, { name: 'Inbox' }),
      folder(2, { name: 'Sent' }),
      folder(10, { name: 'Projects', parentId: 1 }),
      folder(11, { name: 'Ember', parentId: 10 }),
      folder(12, { name: 'Receipts', parentId: 1 }),
      folder(3, { name: 'Trash' }),
    ];
    expect(shape(folders)).toEqual([
      [1, 0],
      [10, 1],
      [11, 2],
      [12, 1],
      [2, 0],
      [3, 0],
    ]);
  });

  it('places a child listed before its parent under the parent', () => {
    expect(shape([folder(5, { parentId: 6 }), folder(6)])).toEqual([
      [6, 0],
      [5, 1],
    ]);
  });

  it('treats a folder whose parent is missing, or in another account, as a root', () => {
    const folders = [folder(1), folder(2, { parentId: 99 }), folder(3, { accountId: 2, parentId: 1 })];
    expect(shape(folders)).toEqual([
      [1, 0],
      [2, 0],
      [3, 0],
    ]);
  });

  it('ends on cycles and keeps every folder: the cycle’s members become roots', () => {
    const folders = [
      folder(1, { parentId: 1 }),
      folder(2, { parentId: 3 }),
      folder(3, { parentId: 2 }),
      folder(4, { parentId: 3 }),
      folder(5, { parentId: 7 }),
      folder(6, { parentId: 5 }),
      folder(7, { parentId: 6 }),
    ];
    const tree = folderTree(folders);
    expect(tree.map((n) => n.folder.id).sort()).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(shape(folders)).toEqual([
      [1, 0],
      [2, 0],
      [3, 0],
      [4, 1],
      [5, 0],
      [6, 0],
      [7, 0],
    ]);
  });

  it('handles a long chain without recursion', () => {
    const folders = Array.from({ length: 20_000 }, (_, i) => folder(i + 1, { parentId: i === 0 ? null : i }));
    const tree = folderTree(folders);
    expect(tree).toHaveLength(20_000);
    expect(tree.at(-1)).toEqual({ folder: folders.at(-1), depth: 19_999 });
  });

  it('does not change the input', () => {
    const folders = [folder(2, { parentId: 1 }), folder(1)];
    const copy = structuredClone(folders);
    folderTree(folders);
    expect(folders).toEqual(copy);
  });
});
