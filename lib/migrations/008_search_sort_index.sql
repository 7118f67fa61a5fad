-- PostgreSQL only (migrations/postgresql/008_search_sort_index.sql): an index for sorting the search by total.
-- DuckDB sorts the column it scans; there is nothing to add.
SELECT 1;
