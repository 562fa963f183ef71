"""The documentation names only what exists: every repository path (in backticks or a relative link) and
every API route (``METHOD /path``) in README.md and docs/*.md is a file of the repository or a route of
template.yaml (or of the local stack's ``/_local`` control routes)."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest

from tools import template

ROOT = template.ROOT
DOCS = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md")])
TOP_LEVEL = ("layers/", "functions/", "tools/", "tests/", "docs/", "bench/", "events/", ".ci/", "console/")
GENERATED = (".local/", ".aws-sam/", ".venv/", ".venv-build/")  # made by make local / make build / make install
FILE_SUFFIX = re.compile(r"\.(py|md|txt|json|ya?ml|toml|lock|sh|cfg|ini)$")
ROUTE = re.compile(r"\b(GET|POST|PUT|DELETE|PATCH)\s+(/[^\s`|)\]\"',;<]*)")
LOCAL_ROUTES = {
    ("GET", "/_local/notifications"),
    ("POST", "/_local/users"),
    ("PUT", "/_local/faults"),
    ("POST", "/_local/schedules/{function}"),
    ("POST", "/_local/streams/drain"),
    ("POST", "/_local/clock"),
}  # tools/local_stack.py, make local only
OTHER_SERVICES_ROUTES = {
    ("GET", "/{pool}/.well-known/jwks.json"),  # Cognito's, which the authorizer reads
    ("POST", "/v1/transfers"),  # Stripe's (and tools/stripe_emulator.py's)
    ("GET", "/v1/transfers"),
    ("GET", "/_emulator/transfers"),  # the payout emulators' listing
}


@cache
def repository_files() -> tuple[str, ...]:
    ignored = ("/.git/", "/.venv", "/.aws-sam/", "/.local/", "/__pycache__/", "/.hypothesis/")
    return tuple(
        sorted(
            str(p.relative_to(ROOT))
            for p in ROOT.rglob("*")
            if p.is_file() and not any(part in f"/{p.relative_to(ROOT)}" for part in ignored)
        )
    )


def _pattern(path: str) -> re.Pattern[str]:
    """``functions/<name>/app.py`` and ``tuishou/*.py``: a placeholder stands for one path segment."""
    parts = re.split(r"(<[^>]+>|\*)", path)
    return re.compile("".join("[^/]+" if p in ("*",) or p.startswith("<") else re.escape(p) for p in parts))


def path_exists(path: str) -> bool:
    """A repository path, or the tail of one (``tuishou/logic/ledger.py``, ``providers/stripe.py``)."""
    path = path.rstrip("/")
    pattern = _pattern(path)
    for name in repository_files():
        for candidate in (name, *(name[:i] for i, c in enumerate(name) if c == "/")):
            if pattern.fullmatch(candidate) or re.search(rf"(^|/){pattern.pattern}$", candidate):
                return True
    return False


def _referenced_paths(text: str) -> list[str]:
    found = []
    for token in re.findall(r"`([^`\s]+)`", text):
        token = token.split("::", 1)[0]
        if "://" in token or token.startswith(("/", "~", "$")) or token.startswith(GENERATED):
            continue
        if token.startswith(TOP_LEVEL) or FILE_SUFFIX.search(token):
            found.append(token)
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if not re.match(r"^(https?:|mailto:|#)", target):
            found.append(target.split("#", 1)[0])
    return found


def _doc_id(doc: Path) -> str:
    return str(doc.relative_to(ROOT))


@pytest.mark.parametrize("doc", DOCS, ids=_doc_id)
def test_every_path_a_doc_names_exists(doc: Path):
    text = doc.read_text()
    missing = []
    for path in _referenced_paths(text):
        relative = (doc.parent / path).resolve()
        if not (relative.exists() and relative.is_relative_to(ROOT)) and not path_exists(path):
            missing.append(path)
    assert not missing, f"{_doc_id(doc)} names paths that do not exist: {missing}"


def _segments_match(documented: str, declared: str) -> bool:
    ours, theirs = documented.strip("/").split("/"), declared.strip("/").split("/")
    return len(ours) == len(theirs) and all(
        a == b or a.startswith("{") or b.startswith("{") for a, b in zip(ours, theirs, strict=True)
    )


@pytest.mark.parametrize("doc", DOCS, ids=_doc_id)
def test_every_route_a_doc_names_is_in_the_template(doc: Path):
    declared = {(r.method, r.path) for r in template.routes()} | LOCAL_ROUTES | OTHER_SERVICES_ROUTES
    unknown = []
    for method, path in ROUTE.findall(doc.read_text()):
        path = path.split("?", 1)[0].rstrip(".:")
        if not any(m == method and _segments_match(path, p) for m, p in declared):
            unknown.append(f"{method} {path}")
    assert not unknown, f"{_doc_id(doc)} names routes template.yaml does not declare: {unknown}"


def test_the_checks_catch_what_does_not_exist():
    # Given names that do not exist, and names that do
    assert not path_exists("tools/no_such_tool.py")
    assert not path_exists("logic/no_such_module.py")
    assert path_exists("functions/<name>/app.py") and path_exists("tuishou/logic/ledger.py")
    assert _referenced_paths("see `tests/api/nope.py::test_x` and [x](nope.md)") == ["tests/api/nope.py", "nope.md"]
    # Then a route must match a declared one segment by segment, placeholders standing for one segment
    assert _segments_match("/l/{code}", "/l/{code}") and _segments_match("/l/abc", "/l/{code}")
    assert not _segments_match("/l/{code}/extra", "/l/{code}")
