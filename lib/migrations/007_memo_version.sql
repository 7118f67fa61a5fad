-- PostgreSQL only (migrations/postgresql/007_memo_version.sql): a counter that every change to the tables
-- Cursor.memo keeps (settings, reasons, users) moves on. A DuckDB file has one writer process, which drops what it
-- kept when it writes them (lib/db.py); there is nothing to count.
SELECT 1;
