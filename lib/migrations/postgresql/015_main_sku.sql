-- PostgreSQL's form of ../015_main_sku.sql: the same column and backfill, and an index, so that a search by main
-- product (or the few SKUs of a main category) looks its orders up instead of reading every order.
ALTER TABLE orders ADD COLUMN main_sku VARCHAR;
UPDATE orders SET main_sku = m.sku
FROM (SELECT l.order_id, l.sku,
             row_number() OVER (PARTITION BY l.order_id ORDER BY l.qty * l.unit_price DESC, l.line_no) AS n
      FROM order_lines l) m
WHERE orders.id = m.order_id AND m.n = 1;
CREATE INDEX orders_main_sku ON orders (main_sku);
