-- The whole product's schema: mail from Gmail and Microsoft Graph, work items
-- from Azure DevOps, the links between them, sync cursors, the outbox of local
-- actions not yet sent, categories, and a full-text index over mail.
--
-- Conventions: times are Unix milliseconds (UTC) in INTEGER columns; provider
-- identifiers are stored exactly as the provider's API returns them; every row
-- owned by an account cascades away with it; lists (recipients, header bags,
-- fields) are JSON text checked with json_valid().

CREATE TABLE accounts (
    id            INTEGER PRIMARY KEY,
    provider      TEXT    NOT NULL CHECK (provider IN ('gmail', 'graph', 'ado')),
    -- E-mail address for mail accounts; organisation URL for Azure DevOps.
    address       TEXT    NOT NULL,
    display_name  TEXT    NOT NULL,
    -- Provider settings (base URL, client id, sync window, interval ...).
    -- Never secrets: tokens live in the OS keychain.
    settings      TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(settings)),
    state         TEXT    NOT NULL DEFAULT 'active'
                  CHECK (state IN ('active', 'needsReauth', 'disabled')),
    sync_enabled  INTEGER NOT NULL DEFAULT 1 CHECK (sync_enabled IN (0, 1)),
    created_at    INTEGER NOT NULL,
    -- The outcome of the last sync run, so a restart (or `ember status` in
    -- another process) shows what the user last saw.
    last_synced_at      INTEGER,
    last_error_code     TEXT,
    last_error_message  TEXT,
    UNIQUE (provider, address)
);

-- App-wide preferences (the global sync switch, intervals, notifications,
-- the remote-content allowlist), one JSON value per key.
CREATE TABLE settings (
    key           TEXT    PRIMARY KEY,
    value         TEXT    NOT NULL CHECK (json_valid(value))
) WITHOUT ROWID;

-- Gmail labels and Graph mail folders alike.
CREATE TABLE folders (
    id            INTEGER PRIMARY KEY,
    account_id    INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    provider_id   TEXT    NOT NULL,
    parent_id     INTEGER REFERENCES folders (id) ON DELETE CASCADE,
    name          TEXT    NOT NULL,
    -- inbox, sent, drafts, trash, spam, archive, or NULL for a user label.
    role          TEXT,
    UNIQUE (account_id, provider_id)
);

CREATE TABLE threads (
    id            INTEGER PRIMARY KEY,
    account_id    INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    provider_id   TEXT    NOT NULL,
    subject       TEXT    NOT NULL DEFAULT '',
    last_date     INTEGER NOT NULL DEFAULT 0,
    UNIQUE (account_id, provider_id)
);

CREATE TABLE categories (
    id            TEXT    PRIMARY KEY,
    name          TEXT    NOT NULL,
    position      INTEGER NOT NULL UNIQUE
);

INSERT INTO categories (id, name, position) VALUES
    ('primary',    'Primary',    0),
    ('social',     'Social',     1),
    ('promotions', 'Promotions', 2),
    ('updates',    'Updates',    3),
    ('forums',     'Forums',     4);

CREATE TABLE messages (
    id                   INTEGER PRIMARY KEY,
    account_id           INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    provider_id          TEXT    NOT NULL,
    thread_id            INTEGER REFERENCES threads (id) ON DELETE SET NULL,
    rfc822_message_id    TEXT,
    in_reply_to          TEXT,
    subject              TEXT    NOT NULL DEFAULT '',
    from_name            TEXT,
    from_address         TEXT    NOT NULL DEFAULT '',
    to_addresses         TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(to_addresses)),
    cc_addresses         TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(cc_addresses)),
    -- Headers the classifier and the UI use (List-Id, List-Unsubscribe,
    -- Precedence, References ...), as a JSON object.
    headers              TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(headers)),
    date                 INTEGER NOT NULL,
    snippet              TEXT    NOT NULL DEFAULT '',
    unread               INTEGER NOT NULL DEFAULT 1 CHECK (unread IN (0, 1)),
    starred              INTEGER NOT NULL DEFAULT 0 CHECK (starred IN (0, 1)),
    has_attachments      INTEGER NOT NULL DEFAULT 0 CHECK (has_attachments IN (0, 1)),
    size                 INTEGER NOT NULL DEFAULT 0,
    category             TEXT    REFERENCES categories (id),
    category_confidence  REAL,
    -- Where the category came from: model, provider or user (a correction).
    category_source      TEXT    CHECK (category_source IN ('model', 'provider', 'user')),
    spam                 INTEGER NOT NULL DEFAULT 0 CHECK (spam IN (0, 1)),
    -- The sentence embedding (f32 little-endian), kept for retraining and
    -- "similar messages".
    embedding            BLOB,
    UNIQUE (account_id, provider_id)
);

-- Keyset paging, newest first: unified, per account, per category.
CREATE INDEX messages_by_date ON messages (date DESC, id DESC);
CREATE INDEX messages_by_account_date ON messages (account_id, date DESC, id DESC);
CREATE INDEX messages_by_category_date ON messages (category, date DESC, id DESC);
CREATE INDEX messages_by_thread ON messages (thread_id, date);
-- The categoriser picks these up at start-up, so nothing is missed after a crash.
CREATE INDEX messages_uncategorised ON messages (id) WHERE category IS NULL;

CREATE TABLE message_folders (
    message_id    INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    folder_id     INTEGER NOT NULL REFERENCES folders (id) ON DELETE CASCADE,
    PRIMARY KEY (message_id, folder_id)
) WITHOUT ROWID;

CREATE INDEX message_folders_by_folder ON message_folders (folder_id, message_id);

CREATE TABLE message_bodies (
    message_id    INTEGER PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,
    text          TEXT,
    -- Sanitised HTML only: raw provider HTML is never stored.
    html          TEXT,
    raw_size      INTEGER NOT NULL DEFAULT 0,
    fetched_at    INTEGER NOT NULL
);

CREATE TABLE attachments (
    id            INTEGER PRIMARY KEY,
    message_id    INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    provider_id   TEXT,
    filename      TEXT    NOT NULL DEFAULT '',
    mime_type     TEXT    NOT NULL DEFAULT 'application/octet-stream',
    size          INTEGER NOT NULL DEFAULT 0,
    content_id    TEXT,
    is_inline     INTEGER NOT NULL DEFAULT 0 CHECK (is_inline IN (0, 1))
);

CREATE INDEX attachments_by_message ON attachments (message_id);

CREATE TABLE work_items (
    id            INTEGER PRIMARY KEY,
    account_id    INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    organization  TEXT    NOT NULL,
    project       TEXT    NOT NULL,
    -- The work item's number in Azure DevOps (AB#123 refers to 123).
    item_id       INTEGER NOT NULL,
    rev           INTEGER NOT NULL,
    item_type     TEXT    NOT NULL,
    title         TEXT    NOT NULL,
    state         TEXT    NOT NULL,
    assigned_to   TEXT,
    changed_date  INTEGER NOT NULL,
    url           TEXT    NOT NULL,
    fields        TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(fields)),
    UNIQUE (account_id, item_id)
);

CREATE INDEX work_items_by_changed ON work_items (changed_date DESC, id DESC);
CREATE INDEX work_items_by_account_changed ON work_items (account_id, changed_date DESC, id DESC);

CREATE TABLE message_work_items (
    message_id    INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    work_item_id  INTEGER NOT NULL REFERENCES work_items (id) ON DELETE CASCADE,
    -- How the link was found: an AB#123 mention or a work item URL.
    source        TEXT    NOT NULL CHECK (source IN ('mention', 'url')),
    PRIMARY KEY (message_id, work_item_id)
) WITHOUT ROWID;

CREATE INDEX message_work_items_by_item ON message_work_items (work_item_id);

-- One opaque cursor per account and resource (Gmail historyId, a Graph delta
-- link per folder, an Azure DevOps watermark). Written in the same transaction
-- as the data it covers, so a crash never leaves a cursor ahead of its data.
CREATE TABLE sync_cursors (
    account_id    INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    resource      TEXT    NOT NULL,
    cursor        TEXT    NOT NULL,
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (account_id, resource)
) WITHOUT ROWID;

-- Local actions (mark read, move, send, state change ...) durably queued until
-- the provider confirms them.
CREATE TABLE outbox (
    id               INTEGER PRIMARY KEY,
    account_id       INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    action           TEXT    NOT NULL,
    payload          TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(payload)),
    created_at       INTEGER NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT,
    next_attempt_at  INTEGER NOT NULL
);

CREATE INDEX outbox_by_due ON outbox (next_attempt_at, id);

-- Full-text index over subject, sender, recipients, snippet and body.
-- Contentless with delete support: the text already lives in messages and
-- message_bodies, so the index stores only its posting lists (no second copy
-- of every body). Highlighting is done by the caller on the page it returns.
CREATE VIRTUAL TABLE message_search USING fts5 (
    subject, sender, recipients, snippet, body,
    content = '',
    contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2'
);

-- What the index holds for one message, defined once.
CREATE VIEW message_search_source AS
SELECT
    m.id AS id,
    m.subject AS subject,
    coalesce(m.from_name, '') || ' ' || m.from_address AS sender,
    coalesce((SELECT group_concat(coalesce(json_extract(value, '$.name'), '') || ' ' ||
                                  coalesce(json_extract(value, '$.address'), ''), ' ')
                FROM json_each(m.to_addresses)), '') || ' ' ||
    coalesce((SELECT group_concat(coalesce(json_extract(value, '$.name'), '') || ' ' ||
                                  coalesce(json_extract(value, '$.address'), ''), ' ')
                FROM json_each(m.cc_addresses)), '') AS recipients,
    m.snippet AS snippet,
    coalesce(b.text, '') AS body
FROM messages m
LEFT JOIN message_bodies b ON b.message_id = m.id;

CREATE TRIGGER messages_search_insert AFTER INSERT ON messages BEGIN
    INSERT INTO message_search (rowid, subject, sender, recipients, snippet, body)
    SELECT id, subject, sender, recipients, snippet, body
      FROM message_search_source WHERE id = new.id;
END;

CREATE TRIGGER messages_search_update
AFTER UPDATE OF subject, from_name, from_address, to_addresses, cc_addresses, snippet ON messages
BEGIN
    DELETE FROM message_search WHERE rowid = old.id;
    INSERT INTO message_search (rowid, subject, sender, recipients, snippet, body)
    SELECT id, subject, sender, recipients, snippet, body
      FROM message_search_source WHERE id = new.id;
END;

CREATE TRIGGER messages_search_delete AFTER DELETE ON messages BEGIN
    DELETE FROM message_search WHERE rowid = old.id;
END;

-- A body arriving, changing or going away re-indexes its message. When a
-- message is deleted its body goes by cascade after the message row, so the
-- message no longer exists in message_search_source and nothing is re-added.
CREATE TRIGGER message_bodies_search_insert AFTER INSERT ON message_bodies BEGIN
    DELETE FROM message_search WHERE rowid = new.message_id;
    INSERT INTO message_search (rowid, subject, sender, recipients, snippet, body)
    SELECT id, subject, sender, recipients, snippet, body
      FROM message_search_source WHERE id = new.message_id;
END;

CREATE TRIGGER message_bodies_search_update AFTER UPDATE OF text ON message_bodies BEGIN
    DELETE FROM message_search WHERE rowid = new.message_id;
    INSERT INTO message_search (rowid, subject, sender, recipients, snippet, body)
    SELECT id, subject, sender, recipients, snippet, body
      FROM message_search_source WHERE id = new.message_id;
END;

CREATE TRIGGER message_bodies_search_delete AFTER DELETE ON message_bodies BEGIN
    DELETE FROM message_search WHERE rowid = old.message_id;
    INSERT INTO message_search (rowid, subject, sender, recipients, snippet, body)
    SELECT id, subject, sender, recipients, snippet, body
      FROM message_search_source WHERE id = old.message_id;
END;
