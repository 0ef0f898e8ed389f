-- Two processes on one profile (issue 16, finding 2). The profile lock keeps
-- a second process from syncing or sending; these keep the store right even
-- for one that does not take it.

-- Bumped in the transaction that saves any of the account's sync cursors.
-- A run notes it before it reads a cursor and checks it in every batch it
-- writes: a run that finds it moved was overtaken by another process's run
-- and writes nothing, so a cursor can never move backwards.
ALTER TABLE accounts ADD COLUMN sync_generation INTEGER NOT NULL DEFAULT 0;

-- An outbox entry is claimed (atomically, by one UPDATE) before it is sent:
-- who claimed it, and until when the claim holds. A claim whose holder died
-- lapses at lease_until, and the entry is sent again by the rules that make
-- a retried send safe (see src/providers/outgoing.rs).
ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
ALTER TABLE outbox ADD COLUMN lease_until INTEGER;
