// Orders folders as a tree for the sidebar: every folder directly followed by
// its children (folders whose parentId is another listed folder of the same
// account), roots and siblings in the order given. A folder whose parent is
// not in the list, or that sits on a parent cycle, counts as a root, so every
// folder appears exactly once and building the tree always ends.
import type { Folder } from '../bindings/Folder';

export interface FolderNode {
  folder: Folder;
  /** 0 for a root, 1 for its children, and so on. */
  depth: number;
}

const ROOT = -1;

export function folderTree(folders: readonly Folder[]): FolderNode[] {
  const n = folders.length;
  const index = new Map<number, number>();
  folders.forEach((f, i) => {
    if (!index.has(f.id)) index.set(f.id, i);
  });

  // Each folder's parent as an index into `folders`, or ROOT.
  const parent = folders.map((f, i) => {
    const p = f.parentId === null ? undefined : index.get(f.parentId);
    return p === undefined || p === i || folders[p]?.accountId !== f.accountId ? ROOT : p;
  });

  // Break cycles: walk up from each folder not yet settled; a walk that meets
  // its own path has found a cycle, whose members become roots.
  const UNSEEN = 0;
  const ON_PATH = 1;
  const SETTLED = 2;
  const mark = new Array<number>(n).fill(UNSEEN);
  for (let start = 0; start < n; start++) {
    const path: number[] = [];
    let i = start;
    while (i !== ROOT && mark[i] === UNSEEN) {
      mark[i] = ON_PATH;
      path.push(i);
      i = parent[i] ?? ROOT;
    }
    if (i !== ROOT && mark[i] === ON_PATH) {
      for (let k = path.indexOf(i); k < path.length; k++) parent[path[k] as number] = ROOT;
    }
    for (const k of path) mark[k] = SETTLED;
  }

  const children: number[][] = folders.map(() => []);
  const roots: number[] = [];
  parent.forEach((p, i) => (p === ROOT ? roots : (children[p] as number[])).push(i));

  // Depth-first, without recursion (Microsoft 365 lets folders nest deeply).
  const out: FolderNode[] = [];
  const stack: { i: number; depth: number }[] = roots.reverse().map((i) => ({ i, depth: 0 }));
  while (stack.length > 0) {
    const { i, depth } = stack.pop() as { i: number; depth: number };
    out.push({ folder: folders[i] as Folder, depth });
    const kids = children[i] as number[];
    for (let k = kids.length - 1; k >= 0; k--) stack.push({ i: kids[k] as number, depth: depth + 1 });
  }
  return out;
}
