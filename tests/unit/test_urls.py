"""Canonical URLs: whatever a merchant typed, what is stored and redirected to is ASCII, and canonical."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tuishou.logic.links import with_click_id
from tuishou.urls import canonical_https_url

paths = st.text(st.characters(blacklist_categories=("C", "Z")), max_size=30)


@given(paths, paths)
def test_any_printable_path_and_query_become_ascii_and_stay_canonical(path, query):
    # When a URL with any printable path and query is canonicalised
    try:
        canonical = canonical_https_url(f"https://商店.example/{path}?{query}")
    except ValueError:
        return  # e.g. a '#' or '@' in the generated text changes the URL's structure: refused or re-parsed
    # Then it is ASCII, and canonicalising it again changes nothing (no double escaping)
    assert canonical.isascii()
    assert canonical_https_url(canonical) == canonical


def test_a_product_saved_before_canonical_urls_still_redirects_in_ascii():
    location = with_click_id("https://shop.example/茶?q=绿", "clk_1")
    assert location == "https://shop.example/%E8%8C%B6?q=%E7%BB%BF&tsclid=clk_1"
