"""What `make build` leaves for the tests: the built artifact, the runtime's packages and the translated
template. `make test` builds first and sets TUISHOU_REQUIRE_ARTIFACT, so a missing piece fails there; a
plain `pytest` without a build skips these tests instead."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tools import template

BUILD = template.ROOT / ".aws-sam" / "build"
RUNTIME_PACKAGES = template.ROOT / ".aws-sam" / "lambda-runtime"


def require(*paths: Path) -> None:
    missing = [str(p.relative_to(template.ROOT)) for p in paths if not p.exists()]
    if not missing:
        return
    message = f"not built: {', '.join(missing)} (run `make build`; make test does)"
    if os.environ.get("TUISHOU_REQUIRE_ARTIFACT"):
        pytest.fail(message)
    pytest.skip(message)
