-- Spike alerts already sent (issue #17): `stats spikes --notify` tells ops leads and analysts once per kind (void /
-- return), reason and week. The key makes a rerun, or two jobs at once, send nothing twice; the audit log keeps
-- what each alert said ("spike.alert").
CREATE TABLE spike_alerts (
    kind            VARCHAR NOT NULL,
    reason_code     VARCHAR NOT NULL,
    week            DATE NOT NULL,
    count           INTEGER NOT NULL,
    alerted_at      TIMESTAMP NOT NULL,
    alerted_by      INTEGER,
    PRIMARY KEY (kind, reason_code, week)
);
