-- Orders imported as already voided get an applied void record with this reason (issue #7). It is inactive, so
-- no void form offers it, while the dashboards still count and label those voids.
INSERT INTO reasons (kind, code, label_en, label_zh, note_required, active, sort_order)
VALUES ('void', 'imported', 'Imported as voided', '导入时已作废', FALSE, FALSE, 95)
ON CONFLICT DO NOTHING;
