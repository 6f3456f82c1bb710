"""Putting a job into any job state, for the state-machine and modify-rule tests.

Transient states (Submitted, Validating, Finishing, Canceling) are held by an emulator whose
dwell time in that state is long; Running by a `sleep:60` task on an emulator of its own (on
the shared one, a few such jobs hold its 8 cores for a minute and every later job of the
session queues behind them); the others come from the shared emulator: Queued by a future
HoldUntil, Failed by `exit:1`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hpcspec.emulator import Timings
from tests.emulator.helpers import Api, future

LONG = 60.0
HELD_BY_TIMING = {
    "Submitted": Timings(tick=0.05, simulate=0.2, submitted=LONG),
    "Validating": Timings(tick=0.05, simulate=0.2, validating=LONG),
    "Finishing": Timings(tick=0.05, simulate=0.2, finishing=LONG),
    "Canceling": Timings(tick=0.05, simulate=0.2, cancel_grace=LONG),
}
ALL_STATES = (
    "Configuring", "Submitted", "Validating", "Queued", "Running", "Finishing", "Finished",
    "Failed", "Canceled", "Canceling",
)  # fmt: skip


def job_in(state: str, shared: Any, start: Callable[..., Any]) -> tuple[Api, int]:
    """(api, job id) with the job in `state`."""
    if state in HELD_BY_TIMING:
        running = start(timings=HELD_BY_TIMING[state])
    else:
        running = start() if state == "Running" else shared
    api = Api(running)
    if state == "Configuring":
        return api, api.create_job(Name="configuring")
    if state == "Queued":
        job = api.create_job(Name="queued", HoldUntil=future())
        api.add_task(job, CommandLine="sleep:60")
        api.ok("POST", f"/jobs/{job}/submit")
        api.wait(job, "Queued")
        return api, job
    if state in ("Running", "Canceling"):
        job = api.create_job(Name=state.lower())
        api.add_task(job, CommandLine="sleep:60")
        api.ok("POST", f"/jobs/{job}/submit")
        api.wait(job, "Running")
        if state == "Canceling":
            api.ok("POST", f"/jobs/{job}/cancel", json="")
            api.wait(job, "Canceling")
        return api, job
    if state == "Canceled":
        job = api.create_job(Name="canceled")
        api.ok("POST", f"/jobs/{job}/cancel", json="")
        return api, job
    job = api.create_job(Name=state.lower())
    api.add_task(job, CommandLine="exit:1" if state == "Failed" else "echo done")
    api.ok("POST", f"/jobs/{job}/submit")
    api.wait(job, state)
    return api, job
