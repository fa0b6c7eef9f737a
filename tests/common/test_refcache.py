"""Reference data held by each process: served again while the group's version in the shared
cache is unchanged, read again as soon as another process moves it."""

import pytest
from django.core.cache import cache

from common import refcache

pytestmark = pytest.mark.django_db


class Builds:
    """A build function that counts its calls and returns a new list each time."""

    def __init__(self):
        self.calls = 0

    def __call__(self):
        self.calls += 1
        return [f"valeur {self.calls}"]


def test_a_value_is_built_once_while_its_version_holds():
    build = Builds()

    first = refcache.reference("essai", "liste", build)
    again = refcache.reference("essai", "liste", build)

    assert first == again == ["valeur 1"]
    assert build.calls == 1


def test_a_version_moved_by_another_process_is_followed_at_once():
    """Another worker invalidates the group (its signal ran there, not here) and caches the new
    value: this process serves that value on its next call, not the one it holds."""
    build = Builds()
    assert refcache.reference("essai", "liste", build) == ["valeur 1"]

    prefix = refcache._prefix("essai")
    cache.set(f"{prefix}:version", "autre-processus", None)
    cache.set(f"{prefix}:autre-processus:liste", ["valeur de l'autre processus"])

    assert refcache.reference("essai", "liste", build) == ["valeur de l'autre processus"]
    assert build.calls == 1


def test_an_invalidation_here_rebuilds_the_value():
    build = Builds()
    refcache.reference("essai", "liste", build)

    refcache.invalidate("essai")

    assert refcache.reference("essai", "liste", build) == ["valeur 2"]
