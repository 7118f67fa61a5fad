-- Whether a void request for the order waits for approval, on the order itself (issue #14: a lone void reads it with
-- the order instead of asking the voids table in a statement of its own, 0.6 ms of a ~10 ms void at 5,000,000
-- orders). Set when a request is recorded, cleared when it is approved or rejected (lib.services.void_writes);
-- set-based loads call lib.services.void_writes.mark_void_requests; `check` verifies it against the voids.
ALTER TABLE orders ADD COLUMN void_requested BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE orders SET void_requested = TRUE
WHERE id IN (SELECT order_id FROM voids WHERE status = 'pending_approval');
