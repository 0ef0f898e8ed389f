-- Issue 6: messages whose remote content (images, backgrounds) the user
-- allowed, one row each. Senders allowed as a whole live in the settings
-- key `remote_content_senders` (a JSON array of lower-cased addresses).
CREATE TABLE remote_content_messages (
    message_id    INTEGER PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,
    allowed_at    INTEGER NOT NULL
);


-- Folder counts for the folder list, kept by triggers: counting a 100,000-
-- message inbox with its unread flags on every refresh took 200 ms.
CREATE TABLE folder_counts (
    folder_id     INTEGER PRIMARY KEY REFERENCES folders (id) ON DELETE CASCADE,
    total         INTEGER NOT NULL DEFAULT 0,
    unread        INTEGER NOT NULL DEFAULT 0
);

INSERT INTO folder_counts (folder_id, total, unread)
SELECT mf.folder_id, count(*), coalesce(sum(m.unread), 0)
  FROM message_folders mf JOIN messages m ON m.id = mf.message_id
 GROUP BY mf.folder_id;

CREATE TRIGGER message_folders_count_insert AFTER INSERT ON message_folders BEGIN
    INSERT INTO folder_counts (folder_id, total, unread)
    VALUES (new.folder_id, 1,
            coalesce((SELECT unread FROM messages WHERE id = new.message_id), 0))
    ON CONFLICT (folder_id) DO UPDATE
    SET total = total + 1, unread = unread + excluded.unread;
END;

-- When a message is deleted its memberships go by cascade after its row, so
-- the unread part is taken off here first and the cascade takes the total.
CREATE TRIGGER message_folders_count_delete AFTER DELETE ON message_folders BEGIN
    UPDATE folder_counts
       SET total = total - 1,
           unread = unread - coalesce((SELECT unread FROM messages WHERE id = old.message_id), 0)
     WHERE folder_id = old.folder_id;
END;

CREATE TRIGGER messages_count_delete BEFORE DELETE ON messages BEGIN
    UPDATE folder_counts SET unread = unread - old.unread
     WHERE folder_id IN (SELECT folder_id FROM message_folders WHERE message_id = old.id);
END;

CREATE TRIGGER messages_count_unread AFTER UPDATE OF unread ON messages
WHEN old.unread != new.unread BEGIN
    UPDATE folder_counts SET unread = unread + new.unread - old.unread
     WHERE folder_id IN (SELECT folder_id FROM message_folders WHERE message_id = new.id);
END;
