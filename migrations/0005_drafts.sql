-- Drafts: what the user is writing, saved as they type, and where each one
-- is on its way out. A draft lives here until the provider has it in Sent;
-- the outbox carries its saves, its send and its deletion to the provider.

CREATE TABLE drafts (
    id                   INTEGER PRIMARY KEY,
    account_id           INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    kind                 TEXT    NOT NULL DEFAULT 'new'
                                 CHECK (kind IN ('new', 'reply', 'replyAll', 'forward')),
    -- The message answered or forwarded, while it is stored.
    source_message_id    INTEGER REFERENCES messages (id) ON DELETE SET NULL,
    -- Its provider id, kept when the message itself is gone (Graph's
    -- createReply and Gmail's forwarded attachments need it).
    source_provider_id   TEXT,
    to_addresses         TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(to_addresses)),
    cc_addresses         TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(cc_addresses)),
    bcc_addresses        TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(bcc_addresses)),
    subject              TEXT    NOT NULL DEFAULT '',
    body_html            TEXT    NOT NULL DEFAULT '',
    -- Threading: the Message-ID the draft is sent with (fixed when it is
    -- created), what it answers, and the provider's thread or conversation.
    message_id_header    TEXT    NOT NULL,
    in_reply_to          TEXT,
    "references"         TEXT    NOT NULL DEFAULT '',
    thread_provider_id   TEXT,
    -- The provider's copy: Gmail's draft id and its current message id, or
    -- Graph's (immutable) message id for both.
    provider_draft_id    TEXT,
    provider_message_id  TEXT,
    -- Local edits counted; the provider has `synced_revision`.
    revision             INTEGER NOT NULL DEFAULT 1,
    synced_revision      INTEGER NOT NULL DEFAULT 0,
    state                TEXT    NOT NULL DEFAULT 'editing'
                                 CHECK (state IN ('editing', 'queued', 'sending', 'sent', 'failed')),
    send_at              INTEGER,
    sent_provider_id     TEXT,
    error                TEXT,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL,
    UNIQUE (message_id_header)
);

CREATE INDEX drafts_by_account ON drafts (account_id, updated_at DESC);
CREATE INDEX drafts_by_provider_message ON drafts (account_id, provider_message_id);

-- Attached files, bytes included: a queued message must survive a crash
-- and the file being moved or deleted before it leaves.
CREATE TABLE draft_attachments (
    id            INTEGER PRIMARY KEY,
    draft_id      INTEGER NOT NULL REFERENCES drafts (id) ON DELETE CASCADE,
    filename      TEXT    NOT NULL,
    content_type  TEXT    NOT NULL DEFAULT 'application/octet-stream',
    size          INTEGER NOT NULL,
    data          BLOB    NOT NULL,
    -- Its id in the provider's copy, where attachments are uploaded one
    -- by one (Microsoft 365); a removed one waits (removed = 1) until the
    -- provider's copy has lost it too.
    provider_id   TEXT,
    removed       INTEGER NOT NULL DEFAULT 0 CHECK (removed IN (0, 1))
);

CREATE INDEX draft_attachments_by_draft ON draft_attachments (draft_id);
