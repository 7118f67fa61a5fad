-- PostgreSQL's form of ../004_order_category_mask.sql. PostgreSQL has no unsigned 64-bit integer: UBIGINT is a
-- domain over BIGINT here, so the queries' `::UBIGINT` casts read the same on both backends; bit 63 is the sign
-- bit (the code only shifts, ORs and tests bits, and lib.db_postgres sends Python ints of 2^63 and up as their
-- two's complement). Same table, same bits, same meaning.
CREATE DOMAIN UBIGINT AS BIGINT;
CREATE TABLE category_bits (
    code    VARCHAR PRIMARY KEY,
    bit     SMALLINT NOT NULL UNIQUE CHECK (bit BETWEEN 0 AND 63)
);
INSERT INTO category_bits
SELECT code, n FROM (SELECT code, row_number() OVER (ORDER BY sort_order, code) - 1 AS n FROM categories) c
WHERE n < 64;
ALTER TABLE orders ADD COLUMN category_mask UBIGINT NOT NULL DEFAULT 0;
UPDATE orders SET category_mask = m.mask
FROM (SELECT l.order_id, bit_or(1::UBIGINT << b.bit) AS mask
      FROM order_lines l JOIN products p ON p.sku = l.sku JOIN category_bits b ON b.code = p.category
      GROUP BY l.order_id) m
WHERE orders.id = m.order_id;
