-- Signed checkpoints of the audit trail: "entry seq had hash hash", signed at `at` with an
-- Ed25519 key kept outside the database (TRAGUARDI_AUDIT_KEY). Only the public key is stored
-- (hex), so `traguardi audit verify` can check with the public key alone. Someone who rewrites
-- the trail and recomputes every hash cannot re-sign: the entry at seq no longer has hash.
-- The signed message is built by `crate::audit::signed_message`.
CREATE TABLE audit_checkpoint (
    seq         INTEGER NOT NULL,
    hash        TEXT NOT NULL,
    at          TEXT NOT NULL,
    public_key  TEXT NOT NULL,
    signature   TEXT NOT NULL,
    PRIMARY KEY (seq, public_key)
);

-- Like the trail, the checkpoints are only ever added.
CREATE TRIGGER audit_checkpoint_no_update BEFORE UPDATE ON audit_checkpoint
BEGIN SELECT RAISE(ABORT, 'audit checkpoints cannot be changed'); END;
CREATE TRIGGER audit_checkpoint_no_delete BEFORE DELETE ON audit_checkpoint
BEGIN SELECT RAISE(ABORT, 'audit checkpoints cannot be deleted'); END;
