"""A reconcile round stopped (SIGTERM sets the stop event) starts no further stack: the stack
in progress ends, and the round does not spend a service manager's stop timeout applying the
others (the review of round 10; `pipeline.reconcile_round`)."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

from hpcspec.engine.events import Recorder
from hpcspec.engine.pipeline import ApplyRequest, reconcile_round
from hpcspec.engine.steps import ApplyOptions
from tests.apply.stacks import audit, make_stack
from tests.engine.conftest import client_for


def test_a_round_stopped_while_its_first_stack_applies_starts_no_other_stack(
    cluster: Any, tmp_path: Path
) -> None:
    stop = threading.Event()
    request = ApplyRequest(cluster_name="emulator", options=ApplyOptions(), journal_root=tmp_path)
    request = replace(request, lock=replace(request.lock, stop=stop))
    first, second = make_stack("stop-first", 2), make_stack("stop-second", 2)

    def confirm(plans: Any) -> bool:
        stop.set()  # SIGTERM arrives while the first stack is being applied
        return True

    client = client_for(cluster)
    try:
        reconcile_round(client, [first, second], request, observer=Recorder(), confirm=confirm)
        applied = audit(client, "stop-first", list(first.jobs))
        skipped = audit(client, "stop-second", list(second.jobs))
    finally:
        client.close()
    assert sorted(applied.jobs) == sorted(first.jobs), applied
    assert not skipped.jobs, skipped
