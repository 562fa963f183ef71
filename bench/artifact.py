"""Sizes of the built artifact (`make build`): the shared layer and each function package, unpacked and
zipped as `sam deploy` uploads them. Lambda's limit is 250 MB unpacked for a function with its layers."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

BUILD = Path(__file__).resolve().parent.parent / ".aws-sam" / "build"


def _sizes(folder: Path) -> dict[str, int]:
    files = [p for p in folder.rglob("*") if p.is_file()]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            archive.write(path, path.relative_to(folder))
    return {
        "files": len(files),
        "unpacked_bytes": sum(p.stat().st_size for p in files),
        "zipped_bytes": buffer.getbuffer().nbytes,
    }


def measure() -> dict[str, dict[str, int]] | None:
    """``{"SharedLayer": {...}, "<Function>": {...}}``, or None when nothing is built."""
    if not (BUILD / "template.yaml").is_file():
        return None
    return {folder.name: _sizes(folder) for folder in sorted(BUILD.iterdir()) if folder.is_dir()}


def render(sizes: dict[str, dict[str, int]] | None) -> list[str]:
    if sizes is None:
        return ["", "Artifact: not built (run `make build`)."]
    lines = ["", "Artifact (`make build`):", "", "| package | files | unpacked MB | zipped MiB |", "|---|---|---|---|"]
    for name, size in sizes.items():
        lines.append(
            f"| {name} | {size['files']} | {size['unpacked_bytes'] / 1e6:.1f} | {size['zipped_bytes'] / 2**20:.2f} |"
        )
    return lines
