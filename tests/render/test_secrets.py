"""A canary secret never reaches any output path of a plan (DESIGN.md §3, R2.6, R4.6)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hpcspec.engine.discovery import LiveStack
from hpcspec.engine.plan import PlanOptions
from hpcspec.engine.planfile import load_plan, read_saved_plan, save_plan
from hpcspec.engine.planner import make_plan
from hpcspec.hpcpack.states import JobState
from hpcspec.render import render_json, render_markdown, render_text
from tests.render import plans

CANARY = "canary-7f3e9a1c-do-not-print"


def test_a_canary_secret_is_in_no_output(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CANARY", CANARY)  # the manifest's LICENSE_KEY: {secret: env:CANARY}
    resolved = plans.stack()
    # The live job holds the secret's value under the secret's own name and under another
    # sensitive-looking name the manifest no longer has; its spec changed, so diffs are made.
    live = plans.live_job(
        resolved,
        "mesh",
        40,
        JobState.Configuring,
        changed={"MinCores": 2},
        env={"OMP_NUM_THREADS": "2", "LICENSE_KEY": CANARY, "DB_PASSWORD": CANARY},
    )
    plan = make_plan(
        resolved,
        LiveStack(current={"mesh": live}),
        cluster="c",
        options=PlanOptions(targets=frozenset({"mesh"})),
    )
    change = plan.changes[0]
    assert {d.name for d in change.diffs} >= {"MinCores", "OMP_NUM_THREADS", "DB_PASSWORD"}

    saved = tmp_path / "plan.json"
    save_plan(plan, saved, extra={"manifest": "cfd.yaml"})
    outputs = {
        "repr": repr(plan),
        "text": render_text(plan, color=False),
        "color": render_text(plan, color=True),
        "markdown": render_markdown(plan),
        "json": render_json(plan),
        "saved": saved.read_text(encoding="utf-8"),
        "loaded": repr(read_saved_plan(saved)),
    }
    for name, output in outputs.items():
        assert CANARY not in output, name
    assert "- env.DB_PASSWORD: (sensitive)" in outputs["text"]
    assert load_plan(saved) == plan
