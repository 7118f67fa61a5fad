"""A small, bounded cache of analytics results that every void, restore or return commit invalidates.

Keyed by the function's arguments plus a process-wide generation: a `Database` by its path, a `User` by role, id
and language, filters (frozen dataclasses) and strings by value. `invalidate()` bumps the generation, so every entry made
before it is never read again and ages out of the LRU.
"""
import functools
import threading
from collections import OrderedDict

from lib.domain import User

_lock = threading.Lock()
_generation = 0


def generation() -> int:
    """The current generation; results cached under an older one are stale."""
    return _generation


def invalidate() -> None:
    """Forget every cached analytics result (call after a void, restore or return is committed)."""
    global _generation
    with _lock:
        _generation += 1


def _key_part(value):
    if isinstance(value, User):
        return ("user", value.role, value.id, value.language)
    path = getattr(value, "path", None)
    if isinstance(path, str) and hasattr(value, "read"):
        return ("db", path)
    return value


def cached(maxsize: int = 64):
    """Decorator: a bounded LRU keyed by the arguments and the generation; `fn.uncached` bypasses it."""
    def decorate(fn):
        entries: OrderedDict = OrderedDict()
        entries_lock = threading.Lock()

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            key = (_generation, tuple(_key_part(a) for a in args),
                   tuple(sorted((k, _key_part(v)) for k, v in kwargs.items())))
            with entries_lock:
                if key in entries:
                    entries.move_to_end(key)
                    return entries[key]
            result = fn(*args, **kwargs)
            with entries_lock:
                entries[key] = result
                entries.move_to_end(key)
                while len(entries) > maxsize:
                    entries.popitem(last=False)
            return result

        def cache_clear() -> None:
            with entries_lock:
                entries.clear()

        wrapper.uncached = fn
        wrapper.cache_clear = cache_clear
        wrapper.cache_size = lambda: len(entries)
        return wrapper
    return decorate
