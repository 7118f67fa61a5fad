"""Which address sign-in attempts are counted under, and how long a guessing address waits (issue #16 finding 1)."""
from datetime import datetime, timedelta

from lib.services.login_throttle import FREE_ATTEMPTS, MAX_DELAY, _backoff, address_key, client_address

NOW = datetime(2026, 11, 29, 9, 0)


def test_the_connections_own_address_wins_over_what_the_browser_sends():
    assert client_address("203.0.113.7", "198.51.100.1") == "203.0.113.7"


def test_behind_the_local_proxy_the_address_it_added_counts_not_the_ones_before_it():
    assert client_address(None, "6.6.6.6, 203.0.113.7") == "203.0.113.7"
    assert client_address(None, " 203.0.113.7 ") == "203.0.113.7"
    assert client_address(None, None) is None and client_address(None, "") is None


def test_addresses_are_counted_by_machine_and_ipv6_by_its_64_network():
    assert address_key(None) == address_key("") == ""
    assert address_key(" 203.0.113.7 ") == "203.0.113.7"
    assert address_key("2001:DB8:1:2:aaaa::1") == address_key("2001:db8:1:2:bbbb::9") == "2001:db8:1:2::/64"
    assert address_key("::ffff:203.0.113.7") == "203.0.113.7"
    assert address_key("not an address" * 20) == ("not an address" * 20)[:64]


def test_the_wait_starts_after_the_free_attempts_doubles_and_stops_at_a_minute():
    waits = [_backoff(n, NOW, NOW).total_seconds() for n in range(FREE_ATTEMPTS + 8)]
    assert waits == [0] * FREE_ATTEMPTS + [2, 4, 8, 16, 32, 60, 60, 60]
    assert _backoff(10_000, NOW, NOW) == MAX_DELAY
    assert _backoff(FREE_ATTEMPTS, NOW, NOW + timedelta(seconds=5)) <= timedelta(0)
