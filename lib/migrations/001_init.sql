-- VoidDesk data model (SPEC §1–§9). Timestamps are naive local business time.
-- Money is DECIMAL(14,2). JSON payloads are stored as VARCHAR text.

CREATE SEQUENCE seq_users START 1;
CREATE TABLE users (
    id              INTEGER PRIMARY KEY DEFAULT nextval('seq_users'),
    username        VARCHAR NOT NULL UNIQUE,
    display_name    VARCHAR NOT NULL,
    role            VARCHAR NOT NULL,
    email           VARCHAR,
    password_hash   VARCHAR NOT NULL,
    active          BOOLEAN NOT NULL DEFAULT TRUE,
    must_change_password BOOLEAN NOT NULL DEFAULT FALSE,
    language        VARCHAR,
    created_at      TIMESTAMP NOT NULL DEFAULT LOCALTIMESTAMP
);

-- Login sessions: only a hash of the browser token is stored.
CREATE TABLE sessions (
    token_hash  VARCHAR PRIMARY KEY,
    user_id     INTEGER NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    expires_at  TIMESTAMP NOT NULL,
    revoked_at  TIMESTAMP
);

-- Failed logins, append-only; used to slow down password guessing.
CREATE TABLE login_failures (
    username    VARCHAR NOT NULL,
    created_at      TIMESTAMP NOT NULL
);

CREATE TABLE categories (
    code        VARCHAR PRIMARY KEY,
    name_en     VARCHAR NOT NULL,
    name_zh     VARCHAR NOT NULL,
    sort_order  INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE products (
    sku         VARCHAR PRIMARY KEY,
    name        VARCHAR NOT NULL,
    category    VARCHAR NOT NULL,
    unit_price  DECIMAL(14,2) NOT NULL,
    active      BOOLEAN NOT NULL DEFAULT TRUE
);

CREATE TABLE warehouses (
    code        VARCHAR PRIMARY KEY,
    name_en     VARCHAR NOT NULL,
    name_zh     VARCHAR NOT NULL
);

CREATE SEQUENCE seq_customers START 1;
CREATE TABLE customers (
    id          INTEGER PRIMARY KEY DEFAULT nextval('seq_customers'),
    code        VARCHAR NOT NULL UNIQUE,
    name        VARCHAR NOT NULL,
    city        VARCHAR,
    phone       VARCHAR,
    created_at      TIMESTAMP NOT NULL DEFAULT LOCALTIMESTAMP
);

-- Current stock per warehouse and SKU. Always equal to the sum of stock_ledger (see `check`).
-- available = on_hand - reserved; quarantine is held apart and not sellable.
CREATE TABLE stock_balances (
    warehouse   VARCHAR NOT NULL,
    sku         VARCHAR NOT NULL,
    on_hand     BIGINT NOT NULL DEFAULT 0,
    reserved    BIGINT NOT NULL DEFAULT 0,
    quarantine  BIGINT NOT NULL DEFAULT 0,
    updated_at  TIMESTAMP NOT NULL DEFAULT LOCALTIMESTAMP,
    PRIMARY KEY (warehouse, sku)
);

-- Append-only: every stock movement is one row of deltas.
-- kind: receipt | reserve | release | ship | restock | repair | scrap | adjust | import
CREATE SEQUENCE seq_stock_ledger START 1;
CREATE TABLE stock_ledger (
    id          BIGINT DEFAULT nextval('seq_stock_ledger'),
    created_at      TIMESTAMP NOT NULL,
    warehouse   VARCHAR NOT NULL,
    sku         VARCHAR NOT NULL,
    kind        VARCHAR NOT NULL,
    d_on_hand   BIGINT NOT NULL DEFAULT 0,
    d_reserved  BIGINT NOT NULL DEFAULT 0,
    d_quarantine BIGINT NOT NULL DEFAULT 0,
    ref_type    VARCHAR,
    ref_id      BIGINT,
    order_no    VARCHAR,
    actor_id    INTEGER,
    note        VARCHAR
);

-- status: pending | processing | shipped | completed | voided | archived
-- payment_status: unpaid | paid | partially_refunded | refunded
-- version goes up on every change; writers check it to detect concurrent edits.
CREATE SEQUENCE seq_orders START 1;
CREATE TABLE orders (
    id              BIGINT PRIMARY KEY DEFAULT nextval('seq_orders'),
    order_no        VARCHAR NOT NULL UNIQUE,
    customer_id     INTEGER NOT NULL,
    rep_id          INTEGER,
    assignee_id     INTEGER,
    warehouse       VARCHAR NOT NULL,
    status          VARCHAR NOT NULL,
    payment_status  VARCHAR NOT NULL,
    total           DECIMAL(14,2) NOT NULL,
    amount_paid     DECIMAL(14,2) NOT NULL DEFAULT 0,
    amount_refunded DECIMAL(14,2) NOT NULL DEFAULT 0,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    shipped_at      TIMESTAMP,
    completed_at    TIMESTAMP,
    voided_at       TIMESTAMP,
    archived_at     TIMESTAMP,
    status_before_archive VARCHAR,
    source          VARCHAR NOT NULL DEFAULT 'app',
    version         INTEGER NOT NULL DEFAULT 1
);

CREATE SEQUENCE seq_order_lines START 1;
CREATE TABLE order_lines (
    id              BIGINT DEFAULT nextval('seq_order_lines'),
    order_id        BIGINT NOT NULL,
    line_no         INTEGER NOT NULL,
    sku             VARCHAR NOT NULL,
    qty             INTEGER NOT NULL,
    unit_price      DECIMAL(14,2) NOT NULL,
    qty_shipped     INTEGER NOT NULL DEFAULT 0,
    qty_returned    INTEGER NOT NULL DEFAULT 0
);

-- Void and return reasons. Records that use a reason copy its code and both labels as they read then.
CREATE TABLE reasons (
    kind            VARCHAR NOT NULL,          -- void | return
    code            VARCHAR NOT NULL,
    label_en        VARCHAR NOT NULL,
    label_zh        VARCHAR NOT NULL,
    note_required   BOOLEAN NOT NULL DEFAULT FALSE,
    active          BOOLEAN NOT NULL DEFAULT TRUE,
    sort_order      INTEGER NOT NULL DEFAULT 0,
    created_at      TIMESTAMP NOT NULL DEFAULT LOCALTIMESTAMP,
    PRIMARY KEY (kind, code)
);

-- One row per void request. status: pending_approval | applied | rejected | restored
CREATE SEQUENCE seq_voids START 1;
CREATE TABLE voids (
    id              BIGINT PRIMARY KEY DEFAULT nextval('seq_voids'),
    order_id        BIGINT NOT NULL,
    order_no        VARCHAR NOT NULL,
    status          VARCHAR NOT NULL,
    reason_code     VARCHAR NOT NULL,
    reason_label_en VARCHAR NOT NULL,
    reason_label_zh VARCHAR NOT NULL,
    note            VARCHAR,
    requested_by    INTEGER,
    requested_at    TIMESTAMP NOT NULL,
    needs_approval  BOOLEAN NOT NULL DEFAULT FALSE,
    approval_reason VARCHAR,                   -- threshold | sales_request
    decided_by      INTEGER,
    decided_at      TIMESTAMP,
    decision_note   VARCHAR,
    applied_at      TIMESTAMP,
    status_before   VARCHAR,                   -- order status the void left, for restore
    amount_paid     DECIMAL(14,2) NOT NULL DEFAULT 0,
    restored_by     INTEGER,
    restored_at     TIMESTAMP,
    restore_note    VARCHAR,
    batch_id        VARCHAR
);

-- status: requested | received | inspected | closed
CREATE SEQUENCE seq_return_notes START 1;
CREATE TABLE return_notes (
    id              BIGINT PRIMARY KEY DEFAULT nextval('seq_return_notes'),
    return_no       VARCHAR NOT NULL UNIQUE,
    order_id        BIGINT NOT NULL,
    order_no        VARCHAR NOT NULL,
    status          VARCHAR NOT NULL,
    reason_code     VARCHAR NOT NULL,
    reason_label_en VARCHAR NOT NULL,
    reason_label_zh VARCHAR NOT NULL,
    note            VARCHAR,
    warehouse       VARCHAR NOT NULL,
    refund_amount   DECIMAL(14,2) NOT NULL DEFAULT 0,
    requested_by    INTEGER,
    created_at      TIMESTAMP NOT NULL,
    received_by     INTEGER,
    received_at     TIMESTAMP,
    inspected_by    INTEGER,
    inspected_at    TIMESTAMP,
    closed_at       TIMESTAMP
);

-- disposition: restock | repair | scrap (set at inspection)
CREATE SEQUENCE seq_return_lines START 1;
CREATE TABLE return_lines (
    id              BIGINT DEFAULT nextval('seq_return_lines'),
    return_id       BIGINT NOT NULL,
    order_line_id   BIGINT NOT NULL,
    sku             VARCHAR NOT NULL,
    qty             INTEGER NOT NULL,
    unit_price      DECIMAL(14,2) NOT NULL,
    disposition     VARCHAR
);

-- source: void | return; status: pending | paid | cancelled
CREATE SEQUENCE seq_refunds START 1;
CREATE TABLE refunds (
    id              BIGINT PRIMARY KEY DEFAULT nextval('seq_refunds'),
    order_id        BIGINT NOT NULL,
    order_no        VARCHAR NOT NULL,
    source          VARCHAR NOT NULL,
    source_id       BIGINT NOT NULL,
    amount          DECIMAL(14,2) NOT NULL,
    status          VARCHAR NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    created_by      INTEGER,
    paid_at         TIMESTAMP,
    paid_by         INTEGER,
    payment_ref     VARCHAR,
    cancelled_at    TIMESTAMP,
    cancelled_by    INTEGER
);

-- Messages are stored as a kind plus JSON params and rendered in the reader's language.
CREATE SEQUENCE seq_notifications START 1;
CREATE TABLE notifications (
    id              BIGINT PRIMARY KEY DEFAULT nextval('seq_notifications'),
    user_id         INTEGER NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    kind            VARCHAR NOT NULL,
    params          VARCHAR NOT NULL DEFAULT '{}',
    order_no        VARCHAR,
    return_no       VARCHAR,
    read_at         TIMESTAMP
);

-- status: queued | sent | failed (failed messages stay and are retried)
CREATE SEQUENCE seq_mail_outbox START 1;
CREATE TABLE mail_outbox (
    id              BIGINT PRIMARY KEY DEFAULT nextval('seq_mail_outbox'),
    notification_id BIGINT,
    to_address      VARCHAR NOT NULL,
    subject         VARCHAR NOT NULL,
    body            VARCHAR NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    status          VARCHAR NOT NULL DEFAULT 'queued',
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      VARCHAR,
    sent_at         TIMESTAMP
);

CREATE SEQUENCE seq_comments START 1;
CREATE TABLE comments (
    id              BIGINT DEFAULT nextval('seq_comments'),
    order_id        BIGINT NOT NULL,
    author_id       INTEGER,
    created_at      TIMESTAMP NOT NULL,
    body            VARCHAR NOT NULL
);

CREATE SEQUENCE seq_assignments START 1;
CREATE TABLE assignments (
    id              BIGINT DEFAULT nextval('seq_assignments'),
    order_id        BIGINT NOT NULL,
    from_user_id    INTEGER,
    to_user_id      INTEGER NOT NULL,
    by_user_id      INTEGER,
    created_at      TIMESTAMP NOT NULL,
    note            VARCHAR
);

CREATE SEQUENCE seq_status_history START 1;
CREATE TABLE order_status_history (
    id              BIGINT DEFAULT nextval('seq_status_history'),
    order_id        BIGINT NOT NULL,
    from_status     VARCHAR,
    to_status       VARCHAR NOT NULL,
    by_user_id      INTEGER,
    created_at      TIMESTAMP NOT NULL,
    note            VARCHAR
);

-- Append-only: one entry per state change anywhere in the system.
CREATE SEQUENCE seq_audit_log START 1;
CREATE TABLE audit_log (
    id              BIGINT DEFAULT nextval('seq_audit_log'),
    created_at      TIMESTAMP NOT NULL,
    actor_id        INTEGER,
    actor_name      VARCHAR,
    action          VARCHAR NOT NULL,
    entity_type     VARCHAR NOT NULL,
    entity_id       VARCHAR NOT NULL,
    order_no        VARCHAR,
    before          VARCHAR,
    after           VARCHAR,
    note            VARCHAR
);

-- Rules an ops lead can change; values are JSON text.
CREATE TABLE settings (
    key             VARCHAR PRIMARY KEY,
    value           VARCHAR NOT NULL,
    updated_at      TIMESTAMP NOT NULL DEFAULT LOCALTIMESTAMP,
    updated_by      INTEGER
);

-- Per-day document counters for SO-/RT- numbers.
CREATE TABLE counters (
    name            VARCHAR PRIMARY KEY,
    value           BIGINT NOT NULL
);

-- Form submissions already handled, so a double submit is answered from here instead of acting twice.
CREATE TABLE submissions (
    key             VARCHAR PRIMARY KEY,
    kind            VARCHAR NOT NULL,
    user_id         INTEGER,
    created_at      TIMESTAMP NOT NULL,
    result          VARCHAR
);

INSERT INTO settings (key, value) VALUES
    ('approval_threshold', '10000'),
    ('restore_window_hours', '72'),
    ('low_stock_level', '20'),
    ('sales_may_request_voids', 'true');

INSERT INTO reasons (kind, code, label_en, label_zh, note_required, sort_order) VALUES
    ('void', 'customer_cancelled', 'Customer cancelled', '客户取消', FALSE, 10),
    ('void', 'out_of_stock', 'Out of stock', '缺货', FALSE, 20),
    ('void', 'order_error', 'Order information wrong', '订单信息错误', FALSE, 30),
    ('void', 'payment_failed', 'Payment failed', '支付失败', FALSE, 40),
    ('void', 'fraud_risk', 'Suspected fraud', '欺诈风险', FALSE, 50),
    ('void', 'other', 'Other', '其他', TRUE, 90),
    ('return', 'quality', 'Quality problem', '质量问题', FALSE, 10),
    ('return', 'changed_mind', 'Customer changed mind', '需求变更', FALSE, 20),
    ('return', 'wrong_item', 'Wrong item sent', '发错货', FALSE, 30),
    ('return', 'damaged', 'Damaged in transit', '运输损坏', FALSE, 40),
    ('return', 'other', 'Other', '其他', TRUE, 90);
