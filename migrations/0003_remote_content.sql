-- Issue 6: messages whose remote content (images, backgrounds) the user
-- allowed, one row each. Senders allowed as a whole live in the settings
-- key `remote_content_senders` (a JSON array of lower-cased addresses).
CREATE TABLE remote_content_messages (
    message_id    INTEGER PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,
    allowed_at    INTEGER NOT NULL
);

