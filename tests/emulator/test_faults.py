"""Fault injection: latency, 5xx before handling, dropped connection after the commit."""

from __future__ import annotations

import json
import time

import pytest
import requests

from hpcspec.emulator.faults import FaultPlan, FaultRule, load_plan
from tests.emulator.helpers import Api, rows


def test_error_before_handling_changes_nothing(start_emulator):
    plan = FaultPlan((FaultRule("POST /hpc/jobs", 1.0, error_status=503),), seed=1)
    api = Api(start_emulator(faults=plan))
    assert api.call("POST", "/jobs", json=[]).status_code == 503
    assert api.ok("GET", "/jobs") == []


def test_dropped_connection_after_commit_still_creates_the_job(start_emulator):
    plan = FaultPlan((FaultRule("POST /hpc/jobs", 1.0, drop_after_commit=True),), seed=1)
    api = Api(start_emulator(faults=plan))
    with pytest.raises(requests.ConnectionError):
        api.call("POST", "/jobs", json=[{"Name": "Name", "Value": "ghost"}])
    assert [r["Name"] for r in rows(api.ok("GET", "/jobs"))] == ["ghost"]


def test_latency_with_jitter_and_route_matching(start_emulator):
    plan = FaultPlan((FaultRule("GET /hpc/cluster/*", 1.0, latency_ms=400, jitter_ms=50),))
    api = Api(start_emulator(faults=plan))
    began = time.monotonic()
    api.ok("GET", "/cluster/version")
    assert time.monotonic() - began >= 0.4
    began = time.monotonic()
    api.ok("GET", "/jobs")
    assert time.monotonic() - began < 0.4


def test_probability_is_seeded_and_repeatable(start_emulator):
    def outcomes() -> list[int]:
        plan = FaultPlan((FaultRule("GET *", 0.5, error_status=500),), seed=42)
        api = Api(start_emulator(faults=plan))
        return [api.call("GET", "/cluster/version").status_code for _ in range(20)]

    first, second = outcomes(), outcomes()
    assert first == second
    assert 200 in first and 500 in first


def test_faults_file_format(tmp_path):
    path = tmp_path / "faults.json"
    rule = {"match": "POST /hpc/jobs/*/submit", "probability": 0.25, "error_status": 502}
    path.write_text(json.dumps({"seed": 7, "rules": [rule]}))
    assert load_plan(path) == FaultPlan((FaultRule(**rule),), seed=7)
