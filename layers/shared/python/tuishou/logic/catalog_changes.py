"""What the catalog table's stream derives (``CatalogStreamFunction``): a product whose status changed
(paused, resumed) has its status copied onto every link to it — the link-code item a click reads and the
link item a share reads — found by one Query of GSI1 ``CODES#{product_id}``, never a Scan. Idempotent: a
replayed record writes the status it carries, and records of one product arrive in order."""

from __future__ import annotations

from collections.abc import Sequence

from tuishou.dal import catalog, tracking
from tuishou.dal.streams import Change


def derive(changes: Sequence[Change]) -> None:
    for change in changes:
        found = catalog.product_status_change(change)
        if found is None:
            continue
        product_id, status = found
        for code, link_id in tracking.product_links(product_id):
            tracking.set_product_status(code, link_id, status)
