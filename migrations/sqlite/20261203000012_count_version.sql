-- Count snapshots get the optimistic-concurrency version every other editable row has
-- (see 20261126000005_workspace.sql): a form or an import sends back the version it was shown
-- (0: "no count for that day yet"), and a second editor gets a conflict, never a silent overwrite.
ALTER TABLE service_count ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
