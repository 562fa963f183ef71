"""The local gateway's static files (the web console at /console): content types, the index document,
generated files, and nothing outside the site's folder."""

from __future__ import annotations

import json

import pytest

from tools.static_site import StaticSite


@pytest.fixture
def site(tmp_path):
    root = tmp_path / "console"
    (root / "js").mkdir(parents=True)
    (root / "index.html").write_text("<!doctype html>")
    (root / "js" / "app.js").write_text("export {};")
    (root / ".hidden.js").write_text("secret")
    (root / "notes.exe").write_text("binary")
    (tmp_path / "secret.txt").write_text("outside")
    (root / "link.txt").symlink_to(tmp_path / "secret.txt")
    return StaticSite("/console", root, {"config.json": lambda: b'{"auth": "local"}'})


def test_files_are_served_with_their_content_type(site):
    # When the index document and a module are asked for
    index, module = site.get("/console/"), site.get("/console/js/app.js")
    # Then each comes with its type, never sniffed
    assert (index.status, index.headers["Content-Type"], index.body) == (
        200,
        "text/html; charset=utf-8",
        b"<!doctype html>",
    )
    assert (module.status, module.headers["Content-Type"]) == (200, "text/javascript; charset=utf-8")
    assert module.headers["X-Content-Type-Options"] == "nosniff"


def test_the_bare_prefix_redirects_to_the_folder(site):
    # Given relative module URLs resolve against the folder, /console must become /console/
    response = site.get("/console")
    assert (response.status, response.headers["Location"]) == (301, "/console/")


def test_generated_files_are_made_per_request(site):
    response = site.get("/console/config.json")
    assert response.status == 200 and response.headers["Content-Type"] == "application/json"
    assert json.loads(response.body) == {"auth": "local"}


@pytest.mark.parametrize(
    "path",
    [
        "/console/../secret.txt",
        "/console/%2e%2e/secret.txt",
        "/console/js/%2E%2E/%2E%2E/secret.txt",
        "/console/js%2f..%2f..%2fsecret.txt",
        "/console/..%5csecret.txt",
        "/console/.hidden.js",
        "/console/link.txt",
        "/console/notes.exe",
        "/console/js/",
        "/console/js//app.js",
        "/console/missing.js",
        "/console/index.html%00.js",
    ],
)
def test_nothing_outside_the_folder_nor_hidden_nor_of_unknown_type_is_served(site, path):
    # When a request tries to leave the folder (plain or encoded), or names a hidden or untyped file
    response = site.get(path)
    # Then it is a 404 JSON error like any unknown route
    assert response.status == 404
    assert json.loads(response.body)["error"]["code"] == "not_found"


def test_only_paths_under_the_prefix_belong_to_the_site(site):
    assert site.matches("/console") and site.matches("/console/js/app.js")
    assert not site.matches("/consoles") and not site.matches("/merchant/products")
