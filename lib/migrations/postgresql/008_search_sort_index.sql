-- PostgreSQL's form of ../008_search_sort_index.sql: the search's "largest first" page walks this index instead of
-- sorting every order (its count comes from the analytics copy: lib.db.ready_copy).
CREATE INDEX orders_total ON orders (total, id);
