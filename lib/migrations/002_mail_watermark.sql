-- Mail is made from notifications after they are committed (lib.services.notify.queue_mail), not inside every
-- void or return: the counter holds the last notification id already turned into mail. Every notification
-- that exists now got its mail the old way.
INSERT INTO counters SELECT 'mail_queued_through', coalesce(max(id), 0) FROM notifications;
