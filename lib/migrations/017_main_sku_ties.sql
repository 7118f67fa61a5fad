-- Ties between lines of one number (lib.queries.main_line): an import could give a blank line number the number of a
-- numbered line of its order ("2" and a blank → two lines 2, fixed in lib.imports.base.line_number); where two such
-- lines were also of equal value, migration 015 picked either. The rule now ends with the line written first (its
-- id): the orders with a repeated line number take their main SKU again by it. Only those orders are written.
UPDATE orders SET main_sku = m.sku
FROM (SELECT l.order_id, l.sku,
             row_number() OVER (PARTITION BY l.order_id ORDER BY l.qty * l.unit_price DESC, l.line_no, l.id) AS n
      FROM order_lines l
      WHERE l.order_id IN (SELECT order_id FROM order_lines GROUP BY order_id, line_no HAVING count(*) > 1)) m
WHERE orders.id = m.order_id AND m.n = 1;
