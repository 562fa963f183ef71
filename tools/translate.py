"""Writes the translated template (SAM transform applied) to .aws-sam/translated-template.json for the
least-privilege test. Run by `make build` with the build venv's Python, which has samtranslator."""

from __future__ import annotations

import json

from tools import template

if __name__ == "__main__":
    template.TRANSLATED_PATH.parent.mkdir(exist_ok=True)
    template.TRANSLATED_PATH.write_text(json.dumps(template.translate(), indent=1, default=str))
    print(f"wrote {template.TRANSLATED_PATH.relative_to(template.ROOT)}")
