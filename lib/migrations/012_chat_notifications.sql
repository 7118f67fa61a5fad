-- Team-chat notifications (issue #17 part 2, lib/services/chat_*.py): channels an administrator sets up (a WeCom or
-- DingTalk group robot, a Slack incoming webhook, a generic JSON webhook) and the delivery outbox, one row per event
-- and channel. Events come from the audit log, read once through the change feed's mark (target ':chat', never an
-- ERP's: lib.services.change_feed refuses that name), in the transaction that writes their deliveries.
CREATE SEQUENCE seq_chat_channels START 1;
CREATE TABLE chat_channels (
    id              BIGINT PRIMARY KEY DEFAULT nextval('seq_chat_channels'),
    name            VARCHAR NOT NULL,
    kind            VARCHAR NOT NULL,           -- wecom, dingtalk, slack, webhook
    webhook_url     VARCHAR NOT NULL,           -- a secret (a robot's key is in it): never shown back, never audited
    secret          VARCHAR,                    -- DingTalk's signing secret: the same
    language        VARCHAR NOT NULL,           -- en, zh
    events          VARCHAR NOT NULL,           -- the events it receives, comma-separated (chat_events.EVENTS)
    active          BOOLEAN NOT NULL DEFAULT TRUE,
    deleted         BOOLEAN NOT NULL DEFAULT FALSE,   -- kept for its delivery history
    since_audit_id  BIGINT NOT NULL,            -- it receives events of later audit entries only
    version         INTEGER NOT NULL DEFAULT 1,
    created_at      TIMESTAMP NOT NULL,
    created_by      INTEGER,
    updated_at      TIMESTAMP NOT NULL
);

-- One row per event (an audit entry) and channel, never deleted. status: queued → claimed → posting → sent; or
-- retrying (next_at), failed (gave up), unconfirmed (the request may have left: only an administrator resends).
CREATE SEQUENCE seq_chat_deliveries START 1;
CREATE TABLE chat_deliveries (
    id              BIGINT PRIMARY KEY DEFAULT nextval('seq_chat_deliveries'),
    audit_id        BIGINT NOT NULL,            -- the event, and its stable id
    channel_id      BIGINT NOT NULL,
    event           VARCHAR NOT NULL,
    order_no        VARCHAR,
    summary         VARCHAR NOT NULL,           -- the message in the channel's language, as plain text
    payload         VARCHAR NOT NULL,           -- the JSON body posted (no secrets in it)
    created_at      TIMESTAMP NOT NULL,
    status          VARCHAR NOT NULL DEFAULT 'queued',
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_at         TIMESTAMP NOT NULL,
    claimed_at      TIMESTAMP,
    posted_at       TIMESTAMP,
    sent_at         TIMESTAMP,
    last_error      VARCHAR,
    UNIQUE (audit_id, channel_id)
);
