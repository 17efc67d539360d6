-- A comune's proposal may change one of its existing services, not only add one (issue 16):
-- the service it changes, by id; NULL for a proposal of a new service. Private like the rest of
-- the proposal (never in open data).
ALTER TABLE service_proposal ADD COLUMN service_id INTEGER;
