-- The day each fact starts to count (issue 16): the rules evaluate every objective on the facts as
-- they stood on the day it asks about, so a service recorded in 2023 cannot change a 2021 outcome.
--
-- pagopa_service.applicable_since: the day the service was recorded as applicable to the comune
-- (NULL while it is not applicable). An active service is applicable at least from its
-- activation, so the rules take the earlier of the two.
-- online_service.online_since: the day the online service was recorded (it enters the SPID/CIE
-- denominator from then, or from its SPID/CIE day if earlier).
--
-- Backfill: rows written before these columns existed carry no such day. A comune's services are
-- taken as known from the start of the first programme (15/12/2020), or from the comune's first
-- activation on the platform (first SPID/CIE day) if earlier: from the first day on which a rule
-- could hold, the denominators are the ones every evaluation used until now, so no outcome of the
-- existing data moves.
ALTER TABLE pagopa_service ADD COLUMN applicable_since DATE;
ALTER TABLE online_service ADD COLUMN online_since DATE;

UPDATE pagopa_service
SET applicable_since = LEAST(
    (SELECT MIN(start_date) FROM programme),
    COALESCE((SELECT MIN(o.active_since) FROM pagopa_service o WHERE o.comune = pagopa_service.comune),
             (SELECT MIN(start_date) FROM programme)))
WHERE applicable;

UPDATE online_service
SET online_since = LEAST(
    (SELECT MIN(start_date) FROM programme),
    COALESCE((SELECT MIN(o.spid_since) FROM online_service o WHERE o.comune = online_service.comune),
             (SELECT MIN(start_date) FROM programme)),
    COALESCE((SELECT MIN(o.cie_since) FROM online_service o WHERE o.comune = online_service.comune),
             (SELECT MIN(start_date) FROM programme)));
