"""Run by test_bounded_reads.py in a child process under a 1.5 GB address-space limit: every
reader of a user-named file is pointed at an endless file (`/dev/zero`) and what it answered
is printed as one JSON object {reader: outcome}. An unbounded reader runs out of memory
(`MemoryError`) there, not in the test run.
"""

from __future__ import annotations

import contextlib
import io
import json
import resource
import sys
from collections.abc import Callable
from pathlib import Path

from hpcspec.cli import main
from hpcspec.engine.plan import Plan
from hpcspec.engine.planfile import save_plan

LIMIT = 1_500_000_000


def _cli(*argv: str) -> str:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            main(list(argv))
        except SystemExit as done:
            return f"exit {done.code}: {err.getvalue().strip()}"
    return f"exit 0: {err.getvalue().strip()}"


def probes(endless: Path, work: Path) -> dict[str, Callable[[], object]]:
    """Each reader, given the endless file."""
    from hpcspec.config.contexts import load_contexts
    from hpcspec.config.profiles import load_profile
    from hpcspec.emulator.faults import load_plan as load_faults
    from hpcspec.emulator.options import load_profile as emulator_profile
    from hpcspec.emulator.options import read_users
    from hpcspec.engine.planfile import check_overwritable
    from hpcspec.engine.secrets import resolve_secret
    from hpcspec.hpcpack.definition import SecretRef

    manifest = work / "m.yaml"
    manifest.write_text("apiVersion: hpcspec/v1\nstack: s\njobs: {}\n")
    plan = work / "plan.json"
    save_plan(
        Plan(stack="s", cluster="http://127.0.0.1:9/hpc", changes=()),
        plan,
        extra={"manifest": str(work / "gone.yaml"), "manifest_absolute": str(endless)},
    )
    evil, evil_plan = work / "evil.yaml", work / "evil.json"
    evil.symlink_to(endless)
    evil_plan.symlink_to(endless)
    return {
        "manifest": lambda: _cli("validate", str(evil)),
        "var-file": lambda: _cli("validate", str(manifest), "--var-file", str(endless)),
        "saved plan": lambda: _cli("apply", str(evil_plan), "--auto-approve"),
        "manifest of a saved plan": lambda: _cli("apply", str(plan), "--auto-approve"),
        "import --xml": lambda: _cli("import", "--xml", str(endless)),
        "secret file": lambda: resolve_secret(SecretRef("file", str(endless))),
        "contexts file": lambda: load_contexts(endless),
        "cluster profile": lambda: load_profile(endless),
        "plan --out over a file": lambda: check_overwritable(endless),
        "emulator --faults": lambda: load_faults(endless),
        "emulator --profile": lambda: emulator_profile(endless, None),
        "emulator --users-file": lambda: read_users(endless),
    }


def _outcome(probe: Callable[[], object]) -> str:
    try:
        return f"returned {str(probe())[:200]}"
    except MemoryError:
        return "MemoryError"
    except Exception as error:  # what the reader said is what the test checks
        return f"{type(error).__name__}: {error}"


def run(endless: Path, work: Path) -> dict[str, str]:
    """{reader: outcome} for every probe."""
    return {name: _outcome(probe) for name, probe in probes(endless, work).items()}


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_AS, (LIMIT, LIMIT))
    print(json.dumps(run(Path(sys.argv[1]), Path(sys.argv[2]))))
