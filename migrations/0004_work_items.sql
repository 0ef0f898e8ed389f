-- Azure DevOps work items as the work-item pane shows them, the mail that
-- refers to them, and edits waiting for the service.
--
-- (There is no 0002: the numbering skipped it when 0003 was written. sqlx
-- applies migrations by version, so the gap is harmless; renumbering would
-- change the versions users' databases recorded, so it stays.)

-- What the pane lists and filters on, besides what 0001 keeps.
ALTER TABLE work_items ADD COLUMN priority INTEGER;
ALTER TABLE work_items ADD COLUMN iteration TEXT;
ALTER TABLE work_items ADD COLUMN created_by TEXT;
ALTER TABLE work_items ADD COLUMN assigned_to_address TEXT;
-- The description, sanitised like mail HTML (never the raw HTML), and its
-- text for search.
ALTER TABLE work_items ADD COLUMN description TEXT;
ALTER TABLE work_items ADD COLUMN description_text TEXT;
-- Links to related items: [{"rel": "parent"|"child"|"related", "item": 12}].
ALTER TABLE work_items ADD COLUMN relations TEXT NOT NULL DEFAULT '[]'
    CHECK (json_valid(relations));
-- Why it is synced: ["assigned", "created", "mentioned", "followed", "query:<id>"].
ALTER TABLE work_items ADD COLUMN memberships TEXT NOT NULL DEFAULT '[]'
    CHECK (json_valid(memberships));

CREATE INDEX work_items_by_item ON work_items (item_id);

-- Comments, oldest first, as sanitised HTML.
CREATE TABLE work_item_comments (
    work_item_id  INTEGER NOT NULL REFERENCES work_items (id) ON DELETE CASCADE,
    comment_id    INTEGER NOT NULL,
    author        TEXT    NOT NULL DEFAULT '',
    created_at    INTEGER NOT NULL,
    html          TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (work_item_id, comment_id)
) WITHOUT ROWID;

-- The item's state changes, from its revisions.
CREATE TABLE work_item_history (
    work_item_id  INTEGER NOT NULL REFERENCES work_items (id) ON DELETE CASCADE,
    rev           INTEGER NOT NULL,
    state         TEXT    NOT NULL,
    changed_by    TEXT    NOT NULL DEFAULT '',
    changed_at    INTEGER NOT NULL,
    PRIMARY KEY (work_item_id, rev)
) WITHOUT ROWID;

-- The states each type allows, in the process's order, per project.
CREATE TABLE work_item_type_states (
    account_id    INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    project       TEXT    NOT NULL,
    item_type     TEXT    NOT NULL,
    state         TEXT    NOT NULL,
    category      TEXT    NOT NULL DEFAULT '',
    position      INTEGER NOT NULL,
    PRIMARY KEY (account_id, project, item_type, state)
) WITHOUT ROWID;

-- Mail that refers to a work item, by the item's number (the item may not
-- be synced yet, or ever): an AB#123 mention, a link, or Azure DevOps' own
-- notification about it. Replaces 0001's table, which keyed on the local
-- work item row and was never filled.
DROP TABLE message_work_items;
CREATE TABLE message_work_items (
    message_id    INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    item_number   INTEGER NOT NULL,
    -- The organisation the link names; NULL for AB# mentions.
    organization  TEXT,
    source        TEXT    NOT NULL CHECK (source IN ('mention', 'url', 'notification')),
    PRIMARY KEY (message_id, item_number)
) WITHOUT ROWID;

CREATE INDEX message_work_items_by_item ON message_work_items (item_number, message_id);

-- A notification about a work item the user has can be folded under it
-- instead of showing in the inbox: the item's number, kept by the writer.
ALTER TABLE messages ADD COLUMN work_item_notice INTEGER;

-- Full-text search over work item titles and descriptions (text only).
CREATE VIRTUAL TABLE work_item_search USING fts5 (
    title, description,
    content = '',
    contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TRIGGER work_items_search_insert AFTER INSERT ON work_items BEGIN
    INSERT INTO work_item_search (rowid, title, description)
    VALUES (new.id, new.title, coalesce(new.description_text, ''));
END;

CREATE TRIGGER work_items_search_update AFTER UPDATE OF title, description_text ON work_items BEGIN
    DELETE FROM work_item_search WHERE rowid = old.id;
    INSERT INTO work_item_search (rowid, title, description)
    VALUES (new.id, new.title, coalesce(new.description_text, ''));
END;

CREATE TRIGGER work_items_search_delete AFTER DELETE ON work_items BEGIN
    DELETE FROM work_item_search WHERE rowid = old.id;
END;

-- Outbox entries whose send met someone else's change (an Azure DevOps
-- revision conflict) wait for the user instead of being sent or dropped.
ALTER TABLE outbox ADD COLUMN state TEXT NOT NULL DEFAULT 'pending'
    CHECK (state IN ('pending', 'conflict'));
ALTER TABLE outbox ADD COLUMN detail TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(detail));
