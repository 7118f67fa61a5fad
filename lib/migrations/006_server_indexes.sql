-- PostgreSQL only (migrations/postgresql/006_server_indexes.sql): the indexes a row store needs for the lookups
-- the services make. DuckDB scans its columns and keeps only the keys the schema declares.
SELECT 1;
