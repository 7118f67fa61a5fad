-- PostgreSQL's form of ../007_memo_version.sql. Every process keeps the rules, the void reasons and the people
-- (read by every void, changed rarely) with the counter's value they were loaded at; one read of the counter tells
-- whether they still hold (lib/db_postgres.py, PgCursor.memo). Any statement that changes one of those tables moves
-- the counter on, in the same transaction, so a process that reads the counter after that commit loads afresh.
CREATE TABLE memo_version (id INTEGER PRIMARY KEY CHECK (id = 1), version BIGINT NOT NULL);
INSERT INTO memo_version VALUES (1, 0);
CREATE FUNCTION bump_memo_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE memo_version SET version = version + 1 WHERE id = 1;
    RETURN NULL;
END $$;
CREATE TRIGGER settings_memo_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON settings
    FOR EACH STATEMENT EXECUTE FUNCTION bump_memo_version();
CREATE TRIGGER reasons_memo_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON reasons
    FOR EACH STATEMENT EXECUTE FUNCTION bump_memo_version();
CREATE TRIGGER users_memo_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON users
    FOR EACH STATEMENT EXECUTE FUNCTION bump_memo_version();
