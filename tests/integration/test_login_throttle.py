"""Slowing down password guessing (issue #16 finding 1): simultaneous attempts are counted before any password is
checked, per account and address strictly and per account loosely, and nobody is locked out for long.

The clock stands still unless a test moves it on, and the attempts of a storm are released together and held at
the password check until every one has arrived there or been turned away: what is counted cannot depend on how
the threads happen to be scheduled. The storms run on both backends (on PostgreSQL through two handles, each with
its own pool of connections, as two app processes would); the rest is arithmetic on the same rows."""
import threading
from datetime import timedelta

import pytest

from lib import clock
from lib.db import connect
from lib.errors import AuthFailed, TooManyAttempts
from lib.services import auth, login_throttle
from tests.conftest import TEST_PASSWORD, add_user

STORM = 30


class Clock:
    def __init__(self, monkeypatch):
        self.now = clock.now().replace(microsecond=0)
        monkeypatch.setattr(clock, "now", lambda: self.now)

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def moment(monkeypatch):
    return Clock(monkeypatch)


@pytest.fixture
def handles(db):
    """Where the attempts come from: on PostgreSQL two app processes' handles (each its own pool of connections),
    on a DuckDB file its one process's."""
    if db.backend != "postgresql":
        yield [db]
        return
    other = connect(db.path)
    yield [db, other]
    other.close()


class HashChecks:
    """The real password check, counting who reaches it and holding them there until each attempt of the storm has
    arrived there or been turned away, so no attempt can finish (and be counted afterwards) before all have begun."""

    def __init__(self, monkeypatch, expected: int):
        self.real, self.expected = auth._verify, expected
        self.calls = self.arrived = 0
        self.lock, self.released = threading.Lock(), threading.Event()
        monkeypatch.setattr(auth, "_verify", self)

    def __call__(self, password_hash: str, password: str) -> bool:
        with self.lock:
            self.calls += 1
        self.arrive()
        if not self.released.wait(60):
            raise RuntimeError("the storm was never released")
        return self.real(password_hash, password)

    def arrive(self) -> None:
        with self.lock:
            self.arrived += 1
            if self.arrived >= self.expected:
                self.released.set()


def _storm(handles, checks: HashChecks, attempts: list[tuple[str, str]]) -> list[str]:
    """Sign in as ops with each (password, address) in a thread of its own, all at once; the outcomes by name."""
    barrier = threading.Barrier(len(attempts))
    outcomes = []

    def run(i, password, address):
        barrier.wait()
        try:
            auth.login(handles[i % len(handles)], "ops", password, address=address)
            outcomes.append("signed_in")
        except AuthFailed:
            outcomes.append("wrong")
        except TooManyAttempts as exc:
            outcomes.append("refused" if "Try again in" in exc.message("en") else repr(exc))
            checks.arrive()
        except Exception as exc:  # noqa: BLE001 - any other outcome fails the test
            outcomes.append(repr(exc))
            checks.arrive()

    threads = [threading.Thread(target=run, args=(i, *a)) for i, a in enumerate(attempts)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    return sorted(outcomes)


@pytest.mark.both_backends
def test_simultaneous_guesses_from_one_address_reach_the_password_check_only_the_free_number_of_times(
        db, handles, moment, monkeypatch):
    owner = add_user(db, "ops", "ops")
    checks = HashChecks(monkeypatch, STORM)
    outcomes = _storm(handles, checks, [("wrong", "203.0.113.7")] * STORM)
    free = login_throttle.FREE_ATTEMPTS
    assert checks.calls == free
    assert outcomes == ["refused"] * (STORM - free) + ["wrong"] * free
    # From the guessing address not even the right password gets through until a short wait has passed; the
    # owner, elsewhere, signs in at once.
    with pytest.raises(TooManyAttempts) as info:
        auth.login(db, "ops", TEST_PASSWORD, address="203.0.113.7")
    assert info.value.params["seconds"] == login_throttle.FIRST_DELAY.total_seconds()
    assert auth.login(db, "ops", TEST_PASSWORD, address="198.51.100.20")[0] == owner
    moment.advance(info.value.params["seconds"])
    assert auth.login(db, "ops", TEST_PASSWORD, address="203.0.113.7")[0] == owner


@pytest.mark.both_backends
def test_simultaneous_guesses_from_many_addresses_are_slowed_down_for_the_account_but_not_for_the_owner(
        db, handles, moment, monkeypatch):
    owner = add_user(db, "ops", "ops")
    auth.login(db, "ops", TEST_PASSWORD, address="198.51.100.20")     # the owner's usual computer, yesterday
    moment.advance(24 * 3600)
    checks = HashChecks(monkeypatch, STORM)
    outcomes = _storm(handles, checks, [("wrong", f"203.0.113.{i}") for i in range(STORM)])
    assert checks.calls == login_throttle.ACCOUNT_BURST
    assert outcomes.count("refused") == STORM - login_throttle.ACCOUNT_BURST
    assert auth.login(db, "ops", TEST_PASSWORD, address="198.51.100.20")[0] == owner
    with pytest.raises(TooManyAttempts) as info:       # a computer the owner never used: a short wait
        auth.login(db, "ops", TEST_PASSWORD, address="192.0.2.1")
    assert 0 < info.value.params["seconds"] <= login_throttle.ACCOUNT_INTERVAL.total_seconds()
    assert "signed in from before" in info.value.message("en")
    moment.advance(info.value.params["seconds"])
    assert auth.login(db, "ops", TEST_PASSWORD, address="192.0.2.1")[0] == owner


def test_guessing_from_one_address_is_slowed_down_but_never_locked_out_for_long(db, moment):
    owner = add_user(db, "ops", "ops")
    waits = []
    while len(waits) < 10:              # guess, and when told to wait, wait exactly that long
        try:
            auth.login(db, "ops", "wrong", address="203.0.113.7")
        except AuthFailed:
            pass
        except TooManyAttempts as exc:
            waits.append(exc.params["seconds"])
            moment.advance(exc.params["seconds"])
    assert waits == [2, 4, 8, 16, 32, 60, 60, 60, 60, 60]
    with pytest.raises(AuthFailed):
        auth.login(db, "ops", "wrong", address="203.0.113.7")
    with pytest.raises(TooManyAttempts) as info:    # the owner there too waits a minute, no longer
        auth.login(db, "ops", TEST_PASSWORD, address="203.0.113.7")
    assert info.value.params["seconds"] == login_throttle.MAX_DELAY.total_seconds()
    moment.advance(info.value.params["seconds"])
    assert auth.login(db, "ops", TEST_PASSWORD, address="203.0.113.7")[0] == owner


def test_a_success_or_a_quiet_quarter_of_an_hour_starts_the_count_over(db, moment):
    add_user(db, "ops", "ops")

    def fail(times):
        for _ in range(times):
            with pytest.raises(AuthFailed):
                auth.login(db, "ops", "wrong")

    fail(login_throttle.FREE_ATTEMPTS - 1)
    auth.login(db, "ops", TEST_PASSWORD)
    fail(login_throttle.FREE_ATTEMPTS)
    with pytest.raises(TooManyAttempts):
        auth.login(db, "ops", "wrong")
    moment.advance(login_throttle.QUIET.total_seconds())
    fail(login_throttle.FREE_ATTEMPTS)


def test_refused_attempts_do_not_make_the_wait_longer(db, moment):
    add_user(db, "ops", "ops")
    for _ in range(login_throttle.FREE_ATTEMPTS):
        with pytest.raises(AuthFailed):
            auth.login(db, "ops", "wrong", address="203.0.113.7")
    for _ in range(10):
        with pytest.raises(TooManyAttempts) as info:
            auth.login(db, "ops", "wrong", address="203.0.113.7")
        assert info.value.params["seconds"] == 2
