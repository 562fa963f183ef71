"""Lambda SnapStart hooks (docs/operations.md, "SnapStart"). Every function publishes versions with SnapStart:
Lambda runs the handler module's init once per version, then ``prime`` (before-snapshot), snapshots the
execution environment, and resumes every new environment from that snapshot, running ``restore``
(after-restore, within Lambda's 10 s) before its first request.

Everything initialised before the snapshot is shared by every restored environment, so ``prime`` warms only
what is the same everywhere and secret nowhere: the cached boto3 clients (created, no AWS call made;
after a restore they sign with the runtime's refreshable container credentials), the settings, the
imports a request path defers (a module's ``DEFERRED_IMPORTS``), the REST resolvers' request validation.
It reads no SSM parameter and renders nothing, so no cache holds a secret or a time-bound value in the
snapshot. ``restore`` makes what was drawn at random unique again per environment: the ``random`` module's
generator (botocore's retry jitter), the id source of ``tuishou.ids``, X-Ray's sampler generators and the
Logger's debug-sampling decision, both drawn at import.

``snapshot_restore_py`` comes with Lambda's Python runtimes. Elsewhere (the local stack, tests) nothing
snapshots the process: the hooks are not registered anywhere and the handlers run unchanged; ``prime`` and
``restore`` can still be called directly. Every handler imports this module through
``tuishou.observability``."""

from __future__ import annotations

import importlib
import random
import sys
import weakref
from collections.abc import Callable
from typing import Any

from tuishou import ids

try:
    from snapshot_restore_py import register_after_restore, register_before_snapshot
except ImportError:  # not on Lambda: no snapshot is ever taken of this process

    def register_before_snapshot(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Callable[..., Any]:
        return func

    def register_after_restore(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Callable[..., Any]:
        return func


DEFERRED = "DEFERRED_IMPORTS"  # a module's tuple of the modules it imports only inside a request path
_resolvers: weakref.WeakSet[Any] = weakref.WeakSet()


def track_resolver(resolver: Any) -> None:
    """``tuishou.rest.build_resolver`` hands every resolver here: ``prime`` builds its routes' validation."""
    _resolvers.add(resolver)


@register_before_snapshot
def prime() -> None:
    """Warm what every restored environment shares; calls no AWS API and reads no secret."""
    from tuishou import settings
    from tuishou.dal import clients

    settings.load()
    for factory in clients.FACTORIES:
        factory()  # botocore loads the service model and endpoint rules; no request is sent
    for module in [m for name, m in list(sys.modules.items()) if name.startswith("tuishou.") and m]:
        for name in getattr(module, DEFERRED, ()):
            importlib.import_module(name)
    for resolver in list(_resolvers):
        _prime_validation(resolver)


def _prime_validation(resolver: Any) -> None:
    """What Powertools builds on a route's first request: its parameter and body models and the validation
    middleware (lazy in Powertools; built here, once, into the snapshot)."""
    if not getattr(resolver, "_enable_validation", False):
        return
    importlib.import_module("aws_lambda_powertools.event_handler.middlewares.openapi_validation")
    for route in resolver._static_routes + resolver._dynamic_routes:
        _ = route.dependant, route.body_field


@register_after_restore
def restore() -> None:
    """Unique again per environment: every generator seeded before the snapshot is re-seeded from the OS."""
    from tuishou.observability import logger

    random.seed()  # the module-level generator was copied into every environment
    ids.reseed()
    _reseed_xray_sampler()
    logger.refresh_sample_rate_calculation()  # POWERTOOLS_LOGGER_SAMPLE_RATE's draw was made at import


def _reseed_xray_sampler() -> None:
    """The X-Ray recorder's samplers (the local sampler on Lambda) own ``random.Random`` instances seeded at
    import."""
    core = sys.modules.get("aws_xray_sdk.core")
    if core is None:
        return
    sampler = core.xray_recorder.sampler
    parts = (getattr(sampler, name, None) for name in ("_local_sampler", "_rule_poller", "_target_poller"))
    for owner in (sampler, *parts):
        generator = getattr(owner, "_random", None)
        if isinstance(generator, random.Random):
            generator.seed()
