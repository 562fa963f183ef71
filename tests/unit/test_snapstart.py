"""SnapStart: identifiers stay unique across environments restored from one snapshot (simulated with fork,
tests/helpers/snapshots.py), the hooks reach Lambda's runtime from every handler, and nothing in the package
draws from a generator a snapshot could share."""

from __future__ import annotations

import re

import pytest

from tests.helpers.snapshots import Simulation, simulate
from tools import template

CHILDREN, DRAWS = 6, 40
RANDOM_PART = slice(-10, None)  # an id's last 10 characters are random; the first 10 are its millisecond


@pytest.fixture(scope="module")
def snapshot() -> Simulation:
    # Given every handler imported and primed as on Lambda, then environments restored from that snapshot
    return simulate(children=CHILDREN, draws=DRAWS)


def test_every_handler_registers_the_hooks_with_the_runtime(snapshot: Simulation):
    # Then the runtime runs the priming before the snapshot and the re-seeding after each restore
    assert snapshot.before_snapshot == ["tuishou.snapstart.prime"], snapshot.runtime
    assert snapshot.after_restore == ["tuishou.snapstart.restore"], snapshot.runtime


def test_ids_stay_unique_across_environments_restored_from_one_snapshot(snapshot: Simulation):
    # When each environment restored with the restore hooks draws ids, codes and coupon codes of every kind
    restored = snapshot.restores("os", restore_hooks=True)
    # Then no value was drawn in two environments, not even the random part of ids made in the same millisecond
    assert len(restored.environments) == CHILDREN
    assert not restored.collisions("id")
    assert not restored.collisions("id", RANDOM_PART)
    assert not restored.collisions("code")
    assert not restored.collisions("coupon")
    # And the random module's generator was re-seeded: every environment draws its own sequence
    assert not restored.collisions("random")


def test_the_simulation_sees_state_a_snapshot_shares_and_the_restore_hooks_reseed_it(snapshot: Simulation):
    # Given an id source that breaks under SnapStart: a generator seeded once, before the snapshot
    # When the restored environments skip the restore hooks
    shared = snapshot.restores("seeded", restore_hooks=False)
    # Then they draw the very same ids, codes and random numbers (the simulation detects shared state)
    first = shared.environments[0]
    assert all(environment["code"] == first["code"] for environment in shared.environments)
    assert shared.collisions("id", RANDOM_PART) and shared.collisions("coupon") and shared.collisions("random")
    # When they run them
    reseeded = snapshot.restores("seeded", restore_hooks=True)
    # Then every environment draws its own
    assert not reseeded.collisions("id", RANDOM_PART)
    assert not reseeded.collisions("code") and not reseeded.collisions("coupon")
    assert not reseeded.collisions("random")


# A generator seeded in-process is shared by every restored environment; the OS's randomness (secrets,
# uuid4, os.urandom) is not. Only tuishou.ids (re-seeded after a restore) may hold one.
SEEDED_GENERATORS = re.compile(
    r"^\s*(import random\b|from random import)|\brandom\.Random\(|\buuid1\(|numpy\.random", re.M
)
ALLOWED = {"ids.py", "snapstart.py"}


def test_no_module_but_ids_draws_from_a_generator_a_snapshot_would_share():
    # Given every module of the shared package and every handler
    sources = [*(template.ROOT / "layers" / "shared" / "python" / "tuishou").rglob("*.py")]
    sources += [*(template.ROOT / "functions").rglob("*.py")]
    # Then none but tuishou.ids (and the hooks) uses a seeded generator
    offending = [
        str(p.relative_to(template.ROOT))
        for p in sources
        if p.name not in ALLOWED and SEEDED_GENERATORS.search(p.read_text())
    ]
    assert not offending, f"draw ids through tuishou.ids (re-seeded after a SnapStart restore): {offending}"
