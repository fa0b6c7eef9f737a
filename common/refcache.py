"""Reference data read from the cache: what every page needs and the office rarely changes
(créneaux, holidays, school years, closures, price grids), so that pages do not read it again
on every request.

Each app names a *group* and the models it is built from (`invalidate_on_change`, in its
AppConfig.ready). Values are cached under the group's current version; saving or deleting a
row of one of its models gives the group a new version, at once and again when the transaction
commits, so that no request can cache rows older than the change under the new version. Bulk
writes that send no signal must call `invalidate(group)` themselves.

Each process also keeps the last value it read of each name, with its version: while the
version in the cache is unchanged, the value is taken from there rather than unpickled again
(one cache read a call instead of two, and no rebuilding of model instances). The values are
therefore shared by the requests of a process: callers read them and never change them.

Without REDIS_URL the cache is each process's memory: coherent for one process (runserver,
the tests, the bench); production runs with Redis, which all processes share. Safe when Redis is
not: while Redis is known to be down (common.cache), every call reads the
database, since a version changed in one process's memory would not reach the others; values
expire after `TIMEOUT` in any case. Keys carry the database's name, so that two databases (test
runs side by side) never share values. Write paths that must see a change the instant it commits
(a closure, under the booking lock) read the database themselves.
"""

import uuid
from collections.abc import Callable

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models.signals import post_delete, post_save

from .cache import redis_known_down

TIMEOUT = 10 * 60  # seconds: how stale a value could be if an invalidation were ever lost


def _prefix(group: str) -> str:
    return f"refcache:{connection.settings_dict['NAME']}:{group}"


def _version(group: str) -> str:
    key = f"{_prefix(group)}:version"
    version = cache.get(key)
    if version is None:
        version = uuid.uuid4().hex
        if not cache.add(key, version, None):
            version = cache.get(key) or version
    return version


# (prefix, name) -> (version, value): the last value of each name this process read.
_held: dict[tuple[str, str], tuple[str, object]] = {}


def reference(group: str, name: str, build: Callable[[], object]):
    """The value `build()` returns, from the cache under `group`'s current version when there.
    Read-only: the same value may serve every request of the process until the version moves."""
    if redis_known_down():
        return build()
    prefix = _prefix(group)
    version = _version(group)
    held = _held.get((prefix, name))
    if held is not None and held[0] == version:
        return held[1]
    key = f"{prefix}:{version}:{name}"
    value = cache.get(key)
    if value is None:
        value = build()
        cache.set(key, value, TIMEOUT)
    _held[(prefix, name)] = (version, value)
    return value


def invalidate(group: str) -> None:
    """Give `group` a new version now, and again once the current transaction commits."""

    def bump():
        cache.set(f"{_prefix(group)}:version", uuid.uuid4().hex, None)

    bump()
    transaction.on_commit(bump)


def invalidate_on_change(group: str, *models) -> None:
    """Invalidate `group` whenever a row of one of `models` is saved or deleted."""

    def changed(sender, **kwargs):
        invalidate(group)

    for model in models:
        uid = f"refcache:{group}:{model._meta.label}"
        post_save.connect(changed, sender=model, weak=False, dispatch_uid=uid)
        post_delete.connect(changed, sender=model, weak=False, dispatch_uid=uid + ":delete")
