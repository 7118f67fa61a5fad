-- An imported order may carry one SKU on several lines (the same item at two prices, a free gift line: issue #15).
-- repeat_sku marks every such line after the first of its order, so that analytics counting orders by SKU count
-- the order once (lib/analytics/_rates.py: rates_sku) without a DISTINCT over millions of lines.
ALTER TABLE order_lines ADD COLUMN repeat_sku BOOLEAN DEFAULT FALSE;
