-- Sign-in attempts, counted before a password is checked (lib/services/login_throttle.py, issue #16 finding 1).
-- They replace the failed-login log, which was read before and written after the check, so attempts made at the
-- same moment were never counted, and which slowed down an account from every address at once.
DROP TABLE login_failures;

-- Per account and client address: the attempts since the count last started over, when the latest began, and the
-- latest successful sign-in from there (an address the owner uses).
CREATE TABLE login_attempts (
    username        VARCHAR NOT NULL,
    address         VARCHAR NOT NULL,
    attempts        INTEGER NOT NULL,
    last_at         TIMESTAMP NOT NULL,
    signed_in_at    TIMESTAMP,
    PRIMARY KEY (username, address)
);

-- Per account, for attempts from addresses that never signed in to it: how far ahead of the clock they have run.
CREATE TABLE login_pace (
    username        VARCHAR PRIMARY KEY,
    next_at         TIMESTAMP NOT NULL
);
