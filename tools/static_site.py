"""Static files under a URL prefix for the local gateway (the web console at ``/console``), as CloudFront
serves them from S3 when deployed: a fixed content type per extension, an index document, and no way out of
the site's folder (``..``, encoded slashes, hidden files and symbolic links pointing elsewhere are 404)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

from tools.gateway import HttpResponse, error

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".txt": "text/plain; charset=utf-8",
}
INDEX_DOCUMENT = "index.html"

GeneratedFile = Callable[[], bytes]


@dataclass
class StaticSite:
    """The files of ``root`` served under ``prefix``; ``generated`` names files made on each request instead
    of read from disk (the console's ``config.json``, which a deployment writes into the bucket)."""

    prefix: str
    root: Path
    generated: dict[str, GeneratedFile] = field(default_factory=dict)

    def matches(self, path: str) -> bool:
        return path == self.prefix or path.startswith(self.prefix + "/")

    def get(self, path: str) -> HttpResponse:
        if path == self.prefix:  # relative module URLs resolve against the folder, so the folder has a slash
            return HttpResponse(301, {"Location": self.prefix + "/", "Content-Type": "text/plain"}, b"")
        relative = unquote(path[len(self.prefix) + 1 :]) or INDEX_DOCUMENT
        if relative in self.generated:
            return _file_response(relative, self.generated[relative]())
        target = self._resolve(relative)
        if target is None:
            return error(404, "not_found", f"no file {path}")
        return _file_response(target.name, target.read_bytes())

    def _resolve(self, relative: str) -> Path | None:
        """The file a request names inside ``root``, or None: every part a plain name (no ``..``, no hidden
        file, no backslash), a known type, and the resolved path still inside ``root``."""
        parts = relative.split("/")
        if any(not part or part.startswith(".") or "\\" in part or "\x00" in part for part in parts):
            return None
        root = self.root.resolve()
        target = root.joinpath(*parts).resolve()
        if not target.is_relative_to(root) or not target.is_file() or target.suffix not in CONTENT_TYPES:
            return None
        return target


def _file_response(name: str, body: bytes) -> HttpResponse:
    headers = {
        "Content-Type": CONTENT_TYPES.get(Path(name).suffix, "application/octet-stream"),
        "Cache-Control": "no-store",  # locally the files change under the developer's hands
        "X-Content-Type-Options": "nosniff",
    }
    return HttpResponse(200, headers, body)
