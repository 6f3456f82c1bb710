"""Seeding an emulator database with other people's jobs, for tests and benchmarks.

A realistic cluster is mostly jobs that are not yours: other users', in every state, some
with another tool's ClientSource. Written straight through the store, before the emulator
starts, so thousands cost a fraction of a second.
"""

from __future__ import annotations

import time
from pathlib import Path

from hpcspec.emulator.state_machine import new_job
from hpcspec.emulator.store import Store

STATES = ("Configuring", "Queued", "Running", "Finished", "Failed", "Canceled")


def unrelated_jobs(db: Path, count: int) -> None:
    """`count` jobs of HPC\\bob and HPC\\carol in every state; every 7th has a foreign
    ClientSource (`HPC Cluster Manager`)."""
    store = Store(db)
    now = time.time()
    jobs = []
    for job_id in range(1, count + 1):
        job = new_job(job_id, "HPC\\bob" if job_id % 3 else "HPC\\carol", now)
        job.props["Name"] = f"unrelated-{job_id}"
        job.props["State"] = STATES[job_id % len(STATES)]
        if job_id % 7 == 0:
            job.props["ClientSource"] = "HPC Cluster Manager"
        jobs.append(job)
    store.insert_jobs(jobs)
    store.close()
