"""A SnapStart snapshot, simulated with ``os.fork``: a fresh interpreter imports every handler and runs the
before-snapshot hooks the way Lambda's runtime does (``snapshot_restore_py``'s registry, in reverse order of
registration); its memory is then the snapshot. Each forked child is an environment restored from it: it
runs the after-restore hooks (in order of registration), or not, then draws identifiers of every kind and
reports them. The same snapshot is restored three ways: with the package's id source and the hooks; with a
generator seeded before the snapshot as the id source, without and with the hooks (a regression the
simulation must see, and the hooks must undo)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tools import template

RUNTIME_STANDIN = Path(__file__).with_name("lambda_runtime")

# Runs in a fresh interpreter: argv = children, draws, the stand-in's folder.
_SIMULATION = r"""
import json, os, random, sys
children, draws = int(sys.argv[1]), int(sys.argv[2])
sys.path.append(sys.argv[3])  # the runtime's hooks library; an installed snapshot_restore_py comes first
from tools.gateway import FunctionHost
host = FunctionHost()
for logical_id in host.specs:
    host.module(logical_id)  # every handler, imported as its cold start does
import snapshot_restore_py as runtime
from tuishou import ids
from tuishou.logic.coupons import COUPON_CODE_LENGTH
PREFIXES = ("clk", "lnk", "shr", "prd", "ctk", "ctt", "ntf", "ent", "scn")
seeded = random.Random()  # a regression to detect: an id generator seeded once, at import
before = [f"{f.__module__}.{f.__name__}" for f, _, _ in runtime.get_before_snapshot()]
after = [f"{f.__module__}.{f.__name__}" for f, _, _ in runtime.get_after_restore()]
for func, args, kwargs in reversed(runtime.get_before_snapshot()):
    func(*args, **kwargs)
snapshot_random = random.getstate()

def draw(source, restore):
    random.setstate(snapshot_random)  # undo os.fork's own re-seeding (an at-fork hook Lambda has no twin of)
    if source == "seeded":
        ids._source = seeded
    if restore:
        for func, args, kwargs in runtime.get_after_restore():
            func(*args, **kwargs)
    return {
        # every kind of identifier the package makes: ids (the prefix does not change how they are drawn;
        # these are the package's), link and invite codes, coupon codes; and the random module's own draws
        "id": [ids.new_id(p) for p in PREFIXES for _ in range(draws)],
        "code": [ids.new_code() for _ in range(draws)],
        "coupon": [ids.new_code(COUPON_CODE_LENGTH).upper() for _ in range(draws)],
        "random": [random.random() for _ in range(draws)],
    }

def restored(source, restore):
    readers = []
    for _ in range(children):
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # an environment restored from the snapshot
            os.close(read_end)
            status = 1
            try:
                with os.fdopen(write_end, "w") as out:
                    json.dump(draw(source, restore), out)
                status = 0
            finally:
                os._exit(status)
        os.close(write_end)
        readers.append((pid, read_end))
    environments = []
    for pid, read_end in readers:
        with os.fdopen(read_end) as result:
            environments.append(json.loads(result.read()))
        _, status = os.waitpid(pid, 0)
        assert status == 0, f"a restored environment failed ({status})"
    return environments

scenarios = {f"{source}/{'restore' if restore else 'no-restore'}": restored(source, restore)
             for source, restore in (("os", True), ("seeded", False), ("seeded", True))}
report = {"runtime": runtime.__file__, "before_snapshot": before, "after_restore": after, "scenarios": scenarios}
print(json.dumps(report))
"""


@dataclass(frozen=True)
class Restores:
    environments: list[dict[str, list]]  # per restored environment: kind -> values drawn

    def collisions(self, kind: str, key: slice = slice(None)) -> set:
        """Values of ``kind`` (``key`` of each: e.g. an id's random part) drawn in more than one environment."""
        seen: dict[object, int] = {}
        for index, environment in enumerate(self.environments):
            for value in {v[key] if isinstance(v, str) else v for v in environment[kind]}:
                seen.setdefault(value, index)
                if seen[value] != index:
                    seen[value] = -1
        return {value for value, index in seen.items() if index == -1}


@dataclass(frozen=True)
class Simulation:
    runtime: str  # the snapshot_restore_py used: the installed package, or the stand-in
    before_snapshot: list[str]  # the hooks the runtime would run, as module.name
    after_restore: list[str]
    scenarios: dict[str, list[dict[str, list]]]

    def restores(self, source: str, *, restore_hooks: bool) -> Restores:
        """The environments restored with ``source`` ("os": the package's; "seeded": a generator seeded before
        the snapshot) as the id source, running the after-restore hooks or not."""
        return Restores(self.scenarios[f"{source}/{'restore' if restore_hooks else 'no-restore'}"])


def simulate(*, children: int, draws: int) -> Simulation:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            [str(template.ROOT / "layers" / "shared" / "python"), str(template.ROOT), os.environ.get("PYTHONPATH", "")]
        ),
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        # priming creates clients: credentials as Lambda provides them, never a metadata endpoint
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    result = subprocess.run(
        [sys.executable, "-c", _SIMULATION, str(children), str(draws), str(RUNTIME_STANDIN)],
        capture_output=True,
        text=True,
        env=env,
        cwd=template.ROOT,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return Simulation(**json.loads(result.stdout.strip().splitlines()[-1]))
