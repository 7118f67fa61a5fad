-- The change feed back to the ERP (lib.services.change_feed, `export changes --since last`): per target, how far
-- its last export read the audit log, so a nightly job sends every change exactly once. On a DuckDB file one
-- process writes, in id order: through_id is the last entry sent. On PostgreSQL transactions commit out of id
-- order: snapshot is the pg_snapshot the last export read (entries committed since are those it did not see).
CREATE TABLE export_marks (
    target          VARCHAR PRIMARY KEY,
    through_id      BIGINT NOT NULL,
    snapshot        VARCHAR,
    exported_at     TIMESTAMP NOT NULL,
    exported_by     INTEGER,
    rows            BIGINT NOT NULL
);
