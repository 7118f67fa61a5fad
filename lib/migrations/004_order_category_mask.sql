-- Which categories an order has lines in, as one bit per category (category_bits; at most 64): the search's
-- category filter reads orders.category_mask instead of every order line (SPEC §12). A category without a bit
-- is searched through the lines. Kept by every write of order lines; `check` verifies it.
CREATE TABLE category_bits (
    code    VARCHAR PRIMARY KEY,
    bit     SMALLINT NOT NULL UNIQUE CHECK (bit BETWEEN 0 AND 63)
);
INSERT INTO category_bits
SELECT code, n FROM (SELECT code, row_number() OVER (ORDER BY sort_order, code) - 1 AS n FROM categories) WHERE n < 64;
ALTER TABLE orders ADD COLUMN category_mask UBIGINT NOT NULL DEFAULT 0;
UPDATE orders SET category_mask = m.mask
FROM (SELECT l.order_id, bit_or(1::UBIGINT << b.bit) AS mask
      FROM order_lines l JOIN products p ON p.sku = l.sku JOIN category_bits b ON b.code = p.category
      GROUP BY l.order_id) m
WHERE orders.id = m.order_id;
