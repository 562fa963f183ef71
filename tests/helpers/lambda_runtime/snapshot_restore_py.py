"""A stand-in for ``snapshot_restore_py`` (the runtime-hooks library Lambda's Python runtimes ship) with the same
documented interface, for the SnapStart simulation (tests/helpers/snapshots.py) on a machine where the pinned
package (requirements-dev.txt) is not installed. The simulation appends this folder to the end of
``sys.path``, so an installed ``snapshot_restore_py`` is always the one used."""

from collections.abc import Callable
from typing import Any

Hook = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]
_before_snapshot: list[Hook] = []
_after_restore: list[Hook] = []


def register_before_snapshot(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Callable[..., Any]:
    _before_snapshot.append((func, args, kwargs))
    return func


def register_after_restore(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Callable[..., Any]:
    _after_restore.append((func, args, kwargs))
    return func


def get_before_snapshot() -> list[Hook]:
    return _before_snapshot


def get_after_restore() -> list[Hook]:
    return _after_restore
