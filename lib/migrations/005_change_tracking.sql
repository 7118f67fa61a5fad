-- PostgreSQL only (migrations/postgresql/005_change_tracking.sql): every copied table records which transaction
-- last wrote each row, so the analytics copy (lib/replica.py) pulls exactly what changed. A DuckDB file is its own
-- analytics engine and needs nothing; the number is kept so both backends count migrations alike.
SELECT 1;
