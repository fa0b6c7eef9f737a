"""A Redis cache that falls back to a per-process memory cache while Redis is unreachable.

The cache holds only what may be lost (allauth's rate-limit counters): when Redis is down, a
request must neither fail nor wait. The first error switches this process to its memory cache
for `FALLBACK_SECONDS` (rate limits then count per process, they still hold), and Redis is tried
again after that. Connection and socket timeouts are short (settings), so one request pays at
most one of them. The outbox reads the same mark (`redis_known_down`) before handing a task to
the broker, which is the same Redis: a request that found it down does not wait on it twice.
"""

import logging
import time

from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

FALLBACK_SECONDS = 30
_down_until = 0.0  # this process's mark: Redis did not answer, leave it alone until then


def redis_known_down() -> bool:
    """Whether Redis failed in this process less than FALLBACK_SECONDS ago."""
    return time.monotonic() < _down_until


def mark_redis_down() -> None:
    global _down_until
    _down_until = time.monotonic() + FALLBACK_SECONDS


def _resilient(name):
    def method(self, *args, **kwargs):
        if not redis_known_down():
            try:
                return getattr(super(FallbackRedisCache, self), name)(*args, **kwargs)
            except (RedisError, OSError) as exc:
                mark_redis_down()
                logger.warning("Redis cache unavailable (%s): memory cache for a while", exc)
        return getattr(self._fallback, name)(*args, **kwargs)

    method.__name__ = name
    return method


class FallbackRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._fallback = LocMemCache(f"fallback-{server}", {"TIMEOUT": params.get("TIMEOUT", 300)})

    for _name in (
        "add",
        "get",
        "set",
        "touch",
        "delete",
        "get_many",
        "has_key",
        "incr",
        "set_many",
        "delete_many",
        "clear",
    ):
        locals()[_name] = _resilient(_name)
    del _name
