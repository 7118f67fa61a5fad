"""Shared fixtures: every test gets its own real DuckDB file under tmp_path."""
import pytest

from lib.db import Database, apply_migrations
from lib.services.auth import hash_password

# One Argon2 hash reused for test users: hashing is deliberately slow.
TEST_PASSWORD = "test-password"
_HASH = hash_password(TEST_PASSWORD)


@pytest.fixture
def db(tmp_path):
    database = Database(str(tmp_path / "test.duckdb"))
    apply_migrations(database)
    yield database
    database.close()


def add_user(db: Database, username: str, role: str, active: bool = True):
    """Insert a user directly (fast) and return it as the services see it."""
    from lib.services.auth import user_from_row
    from lib.db import rows_as_dicts

    with db.transaction() as cur:
        cur.execute("INSERT INTO users (username, display_name, role, password_hash, active)"
                    " VALUES (?, ?, ?, ?, ?)", [username, username.title(), role, _HASH, active])
        row = rows_as_dicts(cur, "SELECT id, username, display_name, role, language, must_change_password"
                                 " FROM users WHERE username = ?", [username])[0]
    return user_from_row(row)
