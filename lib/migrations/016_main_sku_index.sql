-- PostgreSQL only (migrations/postgresql/016_main_sku_index.sql): an index on orders.main_sku for Search's main
-- product filter. DuckDB scans the column; there is nothing to add.
SELECT 1;
