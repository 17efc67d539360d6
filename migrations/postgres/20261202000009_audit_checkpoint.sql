-- Signed checkpoints of the audit trail: "entry seq had hash hash", signed at `at` with an
-- Ed25519 key kept outside the database (TRAGUARDI_AUDIT_KEY). Only the public key is stored
-- (hex), so `traguardi audit verify` can check with the public key alone. Someone who rewrites
-- the trail and recomputes every hash cannot re-sign: the entry at seq no longer has hash.
-- The signed message is built by `crate::audit::signed_message`.
CREATE TABLE audit_checkpoint (
    seq         BIGINT NOT NULL,
    hash        TEXT NOT NULL,
    at          TEXT NOT NULL,
    public_key  TEXT NOT NULL,
    signature   TEXT NOT NULL,
    PRIMARY KEY (seq, public_key)
);

-- Like the trail, the checkpoints are only ever added.
CREATE FUNCTION audit_checkpoint_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit checkpoints cannot be changed or deleted';
END;
$$;
CREATE TRIGGER audit_checkpoint_no_update BEFORE UPDATE OR DELETE ON audit_checkpoint
    FOR EACH ROW EXECUTE FUNCTION audit_checkpoint_refuse();
