-- PostgreSQL's form of ../006_server_indexes.sql: what every order page, void, return, refund and search looks up
-- by, so each is an index lookup on a shared server with millions of rows.
CREATE INDEX order_lines_order_id ON order_lines (order_id);
CREATE INDEX order_lines_sku ON order_lines (sku);
CREATE INDEX orders_created_at ON orders (created_at);
CREATE INDEX orders_status ON orders (status);
CREATE INDEX orders_customer_id ON orders (customer_id);
CREATE INDEX orders_rep_id ON orders (rep_id);
CREATE INDEX voids_order_id ON voids (order_id);
CREATE INDEX voids_pending ON voids (requested_at) WHERE status = 'pending_approval';
CREATE INDEX refunds_order_id ON refunds (order_id);
CREATE INDEX refunds_source ON refunds (source, source_id);
CREATE INDEX return_notes_order_id ON return_notes (order_id);
CREATE INDEX return_lines_return_id ON return_lines (return_id);
CREATE INDEX stock_ledger_item ON stock_ledger (warehouse, sku, created_at);
CREATE INDEX audit_log_order_no ON audit_log (order_no);
CREATE INDEX audit_log_entity ON audit_log (entity_type, entity_id);
CREATE INDEX audit_log_created_at ON audit_log (created_at);
CREATE INDEX notifications_user ON notifications (user_id, read_at);
CREATE INDEX comments_order_id ON comments (order_id);
CREATE INDEX assignments_order_id ON assignments (order_id);
CREATE INDEX order_status_history_order_id ON order_status_history (order_id);
CREATE INDEX mail_outbox_status ON mail_outbox (status);
CREATE INDEX login_failures_user ON login_failures (username, created_at);
CREATE INDEX sessions_user ON sessions (user_id);
