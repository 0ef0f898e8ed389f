//! The Graph folder tree, kept in the mailbox's label table. The well-known
//! folders are the table's first entries, in [`GRAPH_FOLDERS`] order, all
//! directly under the root; each user folder is a
//! [`LabelKind::UserFolder`] that names the folder it is in by label index.
//! A folder's bit is its label's, so a message's folder is the one folder
//! bit it carries, and moving a message is relabelling it.
//!
//! Creating a folder takes the table's next bit. Deleting one for good
//! retires its bit instead of freeing it ([`LabelKind::Retired`]), so that
//! change-log entries and delta tokens keep meaning the folder they were
//! issued for; the table's 64 entries are the mailbox's budget of labels,
//! categories and folders together.
//!
//! Everything here is a plain operation on a [`Mailbox`], shared by the
//! HTTP handlers, the world's generator and the control API.

use crate::mailbox::{Label, LabelKind, Mailbox, MAX_LABELS};
use crate::world::{graph_folder_id, graph_user_folder_id, GRAPH_FOLDERS};

/// A folder a request can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FolderRef {
    /// The root of the mailbox (`msgfolderroot`).
    Root,
    /// A folder: its index in the label table.
    Folder(usize),
}

/// Why the tree cannot be changed as asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TreeError {
    /// A folder of that name is already there (names compare without case).
    Exists,
    /// The label table is full.
    Full,
    /// The root and the well-known folders are not the user's to move or
    /// delete.
    Distinguished,
    /// A folder cannot go into itself or a folder inside it.
    IntoItself,
}

/// The id of the root of the mailbox (`msgfolderroot`), which holds the
/// top-level folders.
pub fn root_id(seed: u64) -> String {
    graph_folder_id(seed, "msgfolderroot")
}

/// The label index of the well-known folder Deleted Items.
fn deleted_items() -> usize {
    GRAPH_FOLDERS
        .iter()
        .position(|(wk, _)| *wk == "deleteditems")
        .unwrap_or_default()
}

/// Whether label `i` is a folder that exists.
pub fn is_folder(mb: &Mailbox, i: usize) -> bool {
    mb.labels.get(i).is_some_and(|l| l.kind.is_folder())
}

/// Whether label `i` is a folder the user made (and did not delete for good).
pub fn is_user_folder(mb: &Mailbox, i: usize) -> bool {
    matches!(
        mb.labels.get(i).map(|l| l.kind),
        Some(LabelKind::UserFolder { .. })
    )
}

/// Whether folder `i` is hidden.
pub fn is_hidden(mb: &Mailbox, i: usize) -> bool {
    matches!(
        mb.labels.get(i).map(|l| l.kind),
        Some(LabelKind::UserFolder { hidden: true, .. })
    )
}

/// The well-known name of folder `i` (`inbox`), when it is a well-known one.
pub fn well_known(mb: &Mailbox, i: usize) -> Option<&'static str> {
    match mb.labels.get(i)?.kind {
        LabelKind::Folder => GRAPH_FOLDERS.get(i).map(|(wk, _)| *wk),
        _ => None,
    }
}

/// The folder that holds folder `i`.
pub fn parent(mb: &Mailbox, i: usize) -> FolderRef {
    match mb.labels.get(i).map(|l| l.kind) {
        Some(LabelKind::UserFolder {
            parent: Some(p), ..
        }) => FolderRef::Folder(usize::from(p)),
        _ => FolderRef::Root,
    }
}

/// The folders directly in `parent`, by display name as Graph lists them;
/// hidden ones only when `include_hidden`.
pub fn children(mb: &Mailbox, parent: FolderRef, include_hidden: bool) -> Vec<usize> {
    let mut out: Vec<usize> = (0..mb.labels.len())
        .filter(|&i| {
            is_folder(mb, i)
                && self::parent(mb, i) == parent
                && (include_hidden || !is_hidden(mb, i))
        })
        .collect();
    out.sort_by_cached_key(|&i| (mb.labels[i].name.to_lowercase(), i));
    out
}

/// Folder `i` and every folder inside it, parents first.
pub fn subtree(mb: &Mailbox, i: usize) -> Vec<usize> {
    let mut out = vec![i];
    let mut next = 0;
    while next < out.len() {
        let inside = children(mb, FolderRef::Folder(out[next]), true);
        out.extend(inside);
        next += 1;
    }
    out
}

/// The folders from the top down to `i`, `i` last.
fn lineage(mb: &Mailbox, i: usize) -> Vec<usize> {
    let mut out = vec![i];
    let mut here = i;
    // A folder is never moved into itself, so this ends at the root; the
    // bound only keeps a damaged table from looping.
    while let FolderRef::Folder(p) = parent(mb, here) {
        if out.len() > MAX_LABELS {
            break;
        }
        out.push(p);
        here = p;
    }
    out.reverse();
    out
}

/// Whether folder `i` is in Deleted Items, at any depth.
pub fn in_deleted_items(mb: &Mailbox, i: usize) -> bool {
    let bin = deleted_items();
    lineage(mb, i).iter().any(|&f| f == bin && f != i)
}

/// `Inbox/Projects/Ember`: the display names from the top down.
pub fn path(mb: &Mailbox, i: usize) -> String {
    lineage(mb, i)
        .iter()
        .map(|&f| mb.labels[f].name.as_str())
        .collect::<Vec<_>>()
        .join("/")
}

/// The folder at a path of display names from the top (`Inbox/Projects`);
/// the first step may also be a well-known name (`inbox/Projects`).
fn at_path(mb: &Mailbox, path: &str) -> Option<usize> {
    let mut here = FolderRef::Root;
    for step in path.split('/') {
        let found = children(mb, here, true).into_iter().find(|&i| {
            mb.labels[i].name.eq_ignore_ascii_case(step)
                || (here == FolderRef::Root
                    && well_known(mb, i).is_some_and(|wk| wk.eq_ignore_ascii_case(step)))
        })?;
        here = FolderRef::Folder(found);
    }
    match here {
        FolderRef::Folder(i) => Some(i),
        FolderRef::Root => None,
    }
}

/// Finds a folder the way the control API names one: a well-known name
/// (`inbox`), a folder id, a path of display names from the top
/// (`Inbox/Projects/Ember`), or the display name of exactly one folder
/// (`Ember`). Names compare without case; ids exactly.
pub fn find(mb: &Mailbox, key: &str) -> Option<usize> {
    if let Some(i) = (0..mb.labels.len()).find(|&i| is_folder(mb, i) && mb.labels[i].id == key) {
        return Some(i);
    }
    if let Some(i) = at_path(mb, key) {
        return Some(i);
    }
    let mut named = (0..mb.labels.len())
        .filter(|&i| is_folder(mb, i) && mb.labels[i].name.eq_ignore_ascii_case(key));
    match (named.next(), named.next()) {
        (Some(i), None) => Some(i),
        _ => None,
    }
}

/// Makes folder `name` in `parent`; returns its label index.
pub fn create(
    mb: &mut Mailbox,
    seed: u64,
    parent: FolderRef,
    name: &str,
    hidden: bool,
) -> Result<usize, TreeError> {
    if children(mb, parent, true)
        .iter()
        .any(|&i| mb.labels[i].name.eq_ignore_ascii_case(name))
    {
        return Err(TreeError::Exists);
    }
    let index = mb.labels.len();
    let parent = match parent {
        FolderRef::Root => None,
        FolderRef::Folder(p) => Some(u8::try_from(p).map_err(|_| TreeError::Full)?),
    };
    mb.add_label(Label {
        id: graph_user_folder_id(seed, index),
        name: name.to_owned(),
        kind: LabelKind::UserFolder { parent, hidden },
    })
    .map(|_| index)
    .ok_or(TreeError::Full)
}

/// Makes the folder at `path` (`Inbox/Projects/Ember`) in an existing
/// parent; returns its label index.
pub fn create_path(mb: &mut Mailbox, seed: u64, path: &str) -> Result<usize, TreeError> {
    let (parent, name) = match path.rsplit_once('/') {
        Some((up, name)) => (
            FolderRef::Folder(at_path(mb, up).ok_or(TreeError::Distinguished)?),
            name,
        ),
        None => (FolderRef::Root, path),
    };
    create(mb, seed, parent, name, false)
}

/// Whether `parent` already holds a folder other than `except` named `name`
/// (names compare without case).
fn name_taken(mb: &Mailbox, parent: FolderRef, name: &str, except: usize) -> bool {
    children(mb, parent, true)
        .iter()
        .any(|&j| j != except && mb.labels[j].name.eq_ignore_ascii_case(name))
}

/// Renames folder `i`, a well-known one too (Exchange lets a client rename
/// the Inbox; its well-known name and id stay).
pub fn rename(mb: &mut Mailbox, i: usize, name: &str) -> Result<(), TreeError> {
    if !is_folder(mb, i) {
        return Err(TreeError::Distinguished);
    }
    if name_taken(mb, parent(mb, i), name, i) {
        return Err(TreeError::Exists);
    }
    mb.labels[i].name = name.to_owned();
    Ok(())
}

/// Moves user folder `i`, with the folders and messages it holds, into
/// `dest` (the root for the top level). Its id stays, as do its messages'.
pub fn move_into(mb: &mut Mailbox, i: usize, dest: FolderRef) -> Result<(), TreeError> {
    let Some(LabelKind::UserFolder { hidden, .. }) = mb.labels.get(i).map(|l| l.kind) else {
        return Err(TreeError::Distinguished);
    };
    let parent = match dest {
        FolderRef::Root => None,
        FolderRef::Folder(d) if subtree(mb, i).contains(&d) => return Err(TreeError::IntoItself),
        FolderRef::Folder(d) => Some(u8::try_from(d).map_err(|_| TreeError::Full)?),
    };
    if name_taken(mb, dest, &mb.labels[i].name, i) {
        return Err(TreeError::Exists);
    }
    mb.labels[i].kind = LabelKind::UserFolder { parent, hidden };
    Ok(())
}

/// Moves user folder `i`, with the folders and messages it holds, into
/// Deleted Items, as deleting a folder does in Exchange.
pub fn move_to_deleted_items(mb: &mut Mailbox, i: usize) -> Result<(), TreeError> {
    move_into(mb, i, FolderRef::Folder(deleted_items()))
}

/// Deletes user folder `i`, the folders inside it and all their messages
/// for good, retiring their bits; returns how many messages went.
pub fn delete_for_good(mb: &mut Mailbox, i: usize) -> Result<usize, TreeError> {
    if !is_user_folder(mb, i) {
        return Err(TreeError::Distinguished);
    }
    let folders = subtree(mb, i);
    let mask = folders.iter().fold(0u64, |m, &f| m | 1u64 << f);
    let doomed: Vec<usize> = mb
        .messages
        .iter()
        .enumerate()
        .filter(|(_, m)| !m.deleted && m.labels & mask != 0)
        .map(|(index, _)| index)
        .collect();
    for &index in &doomed {
        mb.delete(index);
    }
    for f in folders {
        mb.labels[f].kind = LabelKind::Retired;
    }
    Ok(doomed.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::{World, WorldConfig, GRAPH_USER_FOLDERS};

    fn mailbox() -> Mailbox {
        let config = WorldConfig {
            seed: 9,
            messages: 200,
            work_items: 10,
        };
        World::build(config, 1_800_000_000_000).graph.remove(0)
    }

    #[test]
    fn the_world_has_nested_user_folders_found_by_path_name_or_id() {
        let mb = mailbox();
        for p in GRAPH_USER_FOLDERS {
            let i = find(&mb, p).unwrap_or_else(|| panic!("{p} exists"));
            assert_eq!(path(&mb, i), *p, "the path names the folder it found");
            assert_eq!(find(&mb, &mb.labels[i].id), Some(i), "found by id");
        }
        let ember = find(&mb, "Inbox/Projects/Ember").unwrap_or_default();
        assert_eq!(find(&mb, "ember"), Some(ember), "a unique name is enough");
        assert_eq!(find(&mb, "inbox/projects/EMBER"), Some(ember));
        let projects = find(&mb, "Inbox/Projects").unwrap_or_default();
        assert_eq!(parent(&mb, ember), FolderRef::Folder(projects));
        assert_eq!(parent(&mb, projects), FolderRef::Folder(0), "Inbox");
        assert_eq!(find(&mb, "Inbox/Nope"), None);
        let top: Vec<&str> = children(&mb, FolderRef::Root, false)
            .iter()
            .map(|&i| mb.labels[i].name.as_str())
            .collect();
        assert_eq!(
            top,
            [
                "Archive",
                "Deleted Items",
                "Drafts",
                "Inbox",
                "Junk Email",
                "Receipts",
                "Sent Items"
            ],
            "by display name, user folders among the well-known ones"
        );
    }

    #[test]
    fn names_are_unique_among_siblings_and_the_table_has_a_limit() {
        let mut mb = mailbox();
        let inbox = FolderRef::Folder(0);
        assert_eq!(
            create(&mut mb, 9, inbox, "projects", false),
            Err(TreeError::Exists),
            "names compare without case"
        );
        assert_eq!(
            create(&mut mb, 9, FolderRef::Root, "INBOX", false),
            Err(TreeError::Exists),
            "well-known folders count at the top"
        );
        let receipts = find(&mb, "Receipts").unwrap_or_default();
        let made = create(&mut mb, 9, FolderRef::Folder(receipts), "Projects", true);
        assert!(made.is_ok(), "the same name under another parent is fine");
        assert!(made.is_ok_and(|i| is_hidden(&mb, i)));
        let mut last = Ok(0);
        for n in 0..MAX_LABELS {
            last = create(&mut mb, 9, FolderRef::Root, &format!("F{n}"), false);
            if last.is_err() {
                break;
            }
        }
        assert_eq!(last, Err(TreeError::Full));
    }

    #[test]
    fn deleting_moves_to_deleted_items_then_deletes_for_good_and_retires_the_bits() {
        let mut mb = mailbox();
        let projects = find(&mb, "Inbox/Projects").unwrap_or_default();
        let ember = find(&mb, "Inbox/Projects/Ember").unwrap_or_default();
        let bits = 1u64 << projects | 1u64 << ember;
        let held = mb
            .messages
            .iter()
            .filter(|m| !m.deleted && m.labels & bits != 0)
            .count();
        assert!(held > 0, "the world files mail in them");
        assert_eq!(
            move_to_deleted_items(&mut mb, 0),
            Err(TreeError::Distinguished)
        );
        assert_eq!(move_to_deleted_items(&mut mb, projects), Ok(()));
        assert!(in_deleted_items(&mb, ember), "the subtree went along");
        assert_eq!(path(&mb, ember), "Deleted Items/Projects/Ember");
        assert_eq!(delete_for_good(&mut mb, projects), Ok(held));
        assert!(!is_folder(&mb, projects) && !is_folder(&mb, ember));
        assert_eq!(find(&mb, "Ember"), None);
        let next = create(&mut mb, 9, FolderRef::Root, "Projects", false);
        assert!(
            next.is_ok_and(|i| i > ember),
            "a retired bit is not handed out again"
        );
    }

    #[test]
    fn renaming_and_moving_keep_names_unique_and_never_make_a_loop() {
        let mut mb = mailbox();
        let projects = find(&mb, "Inbox/Projects").unwrap_or_default();
        let ember = find(&mb, "Inbox/Projects/Ember").unwrap_or_default();
        let receipts = find(&mb, "Receipts").unwrap_or_default();
        assert_eq!(rename(&mut mb, receipts, "inbox"), Err(TreeError::Exists));
        assert_eq!(rename(&mut mb, ember, "Desktop"), Ok(()));
        assert_eq!(path(&mb, ember), "Inbox/Projects/Desktop");
        assert_eq!(
            move_into(&mut mb, projects, FolderRef::Folder(ember)),
            Err(TreeError::IntoItself)
        );
        assert_eq!(
            move_into(&mut mb, 0, FolderRef::Folder(receipts)),
            Err(TreeError::Distinguished),
            "the Inbox stays where it is"
        );
        assert_eq!(
            move_into(&mut mb, projects, FolderRef::Folder(receipts)),
            Ok(())
        );
        assert_eq!(path(&mb, ember), "Receipts/Projects/Desktop");
        assert_eq!(move_into(&mut mb, ember, FolderRef::Root), Ok(()));
        assert_eq!(parent(&mb, ember), FolderRef::Root);
        assert_eq!(rename(&mut mb, 0, "Post"), Ok(()), "even the Inbox");
        assert_eq!(well_known(&mb, 0), Some("inbox"));
    }
}
