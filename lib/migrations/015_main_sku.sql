-- Each order's main SKU (issue #17, lib.queries.main_line): the SKU of its line of largest value (qty × unit_price),
-- on a tie its first line; NULL for an order without lines. Search's main product / main category filters and
-- Explain's product and category segments read it instead of every order line. Lines never change once written,
-- so every write of lines sets it (main_line.set_main_skus); `check` verifies it. The ORDER BY below is the rule
-- of main_line.main_first, frozen as a migration is. One statement: 2.6 s at 5,000,000 orders / 14.6M lines on
-- DuckDB; on PostgreSQL, which rewrites every order row, 37 s at 1,000,000.
ALTER TABLE orders ADD COLUMN main_sku VARCHAR;
UPDATE orders SET main_sku = m.sku
FROM (SELECT l.order_id, l.sku,
             row_number() OVER (PARTITION BY l.order_id ORDER BY l.qty * l.unit_price DESC, l.line_no) AS n
      FROM order_lines l) m
WHERE orders.id = m.order_id AND m.n = 1;
