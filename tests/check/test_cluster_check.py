"""`hpcspec cluster check` end to end against the emulator (issue 15 part 1 and "Done when"):
every probe holds on the emulator; a cluster that stamps ClientSource and sends ASP.NET error
bodies is reported as differing; the check is safe (its writes touch only its own jobs, every
job ends Canceled or Finished, no task ever starts) and `--record` keeps no secret."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from hpcspec.config import load_profile
from hpcspec.hpcpack.check.trace import _redact_pairs
from hpcspec.hpcpack.client import HpcPackClient
from hpcspec.hpcpack.profile import ClusterProfile, ErrorStyle, NodeEndpoints
from hpcspec.hpcpack.transport import Credentials, Transport, TransportOptions, basic_token
from tests.conftest import Runner


@pytest.fixture
def check_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    def point_at(running: Any) -> Path:
        monkeypatch.setenv("HPCSPEC_CLUSTER", running.url)
        monkeypatch.setenv("HPCSPEC_USERNAME", running.admin[0])
        monkeypatch.setenv("HPCSPEC_PASSWORD", running.admin[1])
        monkeypatch.setenv("HPCSPEC_CONFIG", str(tmp_path / "config.yaml"))
        return tmp_path

    return point_at


def _findings(out: str) -> dict[str, str]:
    return {f["probe"]: f["result"] for f in json.loads(out)["findings"]}


def _admin_client(running: Any) -> HpcPackClient:
    options = TransportOptions(running.url, credentials=Credentials(*running.admin))
    return HpcPackClient(Transport(options), profile=ClusterProfile())


@pytest.mark.slow  # the whole battery: ~1-3 s
def test_every_probe_holds_on_the_emulator_and_the_check_is_safe(
    start_emulator: Any, check_env: Any, run_cli: Runner
) -> None:
    running = start_emulator()
    home = check_env(running)
    code, out, err = run_cli("cluster", "check", "-o", "json", "--record", str(home / "rec"))
    assert code == 0, out + err
    report = json.loads(out)
    not_holding = {p: r for p, r in _findings(out).items() if r != "holds"}
    assert not not_holding, report["findings"]
    assert len(report["findings"]) >= 20
    # Saved for this cluster, every fact measured but the ones no probe can reach safely.
    saved = load_profile(next((home / "profiles").glob("url-*.json")))
    assert saved is not None and saved.checked_at and saved.source == running.url
    assert set(saved.unverified) <= {"client_source_stamp", "client_source_stamped_at",
                                     "forbidden_status", "start_row",
                                     "default_rows_per_read"}  # fmt: skip
    # Safe: every write names one of the check's own jobs (or creates one).
    trace = json.loads((home / "rec" / "trace.json").read_text())
    made = {str(e["answer"]) for e in trace["exchanges"]
            if e["method"] == "POST" and e["path"] in ("/jobs", "/jobs/jobFile")}  # fmt: skip
    writes = [e for e in trace["exchanges"] if e["method"] != "GET"]
    assert writes and len(writes) < 80
    for write in writes:
        if write["path"] not in ("/jobs", "/jobs/jobFile"):
            assert write["path"].split("/")[2] in made, write
    # Every job the check made ended Canceled (or Finished by the check), and none ever ran.
    client = _admin_client(running)
    try:
        jobs = list(client.iter_jobs(properties=["Id", "Name", "State", "StartTime"]))
        assert {row.text("Id") for row in jobs} == made
        for row in jobs:
            assert row.text("Name").startswith("hpcspec-check-")
            assert row.text("State") in ("Canceled", "Finished"), row.text("Name")
            assert not row.text("StartTime")
            tasks = client.iter_tasks(int(row.text("Id")), properties=["StartTime"])
            assert all(not t.text("StartTime") for t in tasks)
    finally:
        client.close()


@pytest.mark.slow  # the whole battery: ~1-3 s
def test_the_recorded_trace_holds_no_credentials(
    start_emulator: Any, check_env: Any, run_cli: Runner
) -> None:
    running = start_emulator()
    home = check_env(running)
    code, _out, err = run_cli("cluster", "check", "--record", str(home / "rec"))
    assert code == 0, err
    text = (home / "rec" / "trace.json").read_text() + (home / "rec" / "report.json").read_text()
    user, password = running.admin
    assert password not in text and basic_token(user, password) not in text
    assert "Authorization" not in text
    env_writes = [e for e in json.loads((home / "rec" / "trace.json").read_text())["exchanges"]
                  if e["path"].endswith("/envVariables") and e["method"] == "POST"]  # fmt: skip
    # The check writes only its own marker variable; any other value would be redacted.
    assert env_writes and all(p["Name"].lower() == "hpcspec_check" for e in env_writes
                              for p in e["body"])  # fmt: skip


def test_env_values_other_than_the_checks_own_are_redacted() -> None:
    body = [{"Name": "TOKEN", "Value": "s3cret"}, {"Name": "HPCSPEC_CHECK", "Value": "Queued"}]
    shown = _redact_pairs(body, everything=True)
    assert shown == [{"Name": "TOKEN", "Value": "<redacted>"}, body[1]]
    submit = [{"Name": "Password", "Value": "pw"}, {"Name": "UserName", "Value": "HPC\\a"}]
    assert _redact_pairs(submit, everything=False)[0]["Value"] == "<redacted>"


@pytest.mark.slow  # the whole battery: ~1-3 s
def test_a_cluster_that_stamps_client_source_and_sends_aspnet_errors_differs(
    start_emulator: Any, check_env: Any, run_cli: Runner
) -> None:
    profile = ClusterProfile(
        client_source_kept=False,
        client_source_stamp="HPC Job Manager",
        error_style=ErrorStyle.ASPNET,
        node_endpoints=NodeEndpoints.CLUSTER,
    )
    running = start_emulator(profile=profile)
    home = check_env(running)
    code, out, _err = run_cli("cluster", "check", "--output", "json")
    assert code == 1
    found = _findings(out)
    assert found["client-source.rest-create"] == "differs"
    assert found["node-endpoints"] == "differs"
    # ASP.NET bodies are read: each refusal is still its kind, with the server's message.
    assert all(found[f"errors.{k}"] == "holds" for k in ("not-found", "bad-value"))
    assert found["errors.refused-by-state"] == "holds"
    saved = load_profile(next((home / "profiles").glob("url-*.json")))
    assert saved is not None
    assert not saved.client_source_kept and saved.client_source_stamp == "HPC Job Manager"
    assert saved.error_style is ErrorStyle.ASPNET
    assert saved.node_endpoints is NodeEndpoints.CLUSTER


@pytest.mark.slow  # the whole battery: ~1-3 s
def test_text_and_markdown_name_each_probe_and_the_saved_profile(
    start_emulator: Any, check_env: Any, run_cli: Runner
) -> None:
    running = start_emulator()
    check_env(running)
    code, text, _ = run_cli("cluster", "check")
    assert code == 0 and "holds    client-source.rest-create" in text
    assert "evidence:" in text and "profile saved in" in text
    code, markdown, _ = run_cli("cluster", "check", "-o", "markdown")
    assert code == 0 and "| holds | `paging.small-pages` |" in markdown


@pytest.mark.slow  # the whole battery: ~1-3 s
@pytest.mark.skipif(os.name == "nt", reason="POSIX modes (Windows: ACLs)")
def test_a_profile_folder_others_may_write_in_costs_the_saved_profile_not_the_report(
    start_emulator: Any, check_env: Any, run_cli: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The profile is saved next to the contexts file; a folder hpcspec will not keep state in
    (here writable by others) loses the saved profile, not the report (before: the whole check
    ended with `config-error` after every probe had run, and printed nothing of them)."""
    home = check_env(start_emulator())
    shared = home / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    monkeypatch.setenv("HPCSPEC_CONFIG", str(shared / "config.yaml"))
    code, text, err = run_cli("cluster", "check")
    assert code == 0, text + err
    assert "holds    client-source.rest-create" in text
    assert "profile NOT saved" in text and "others may write in it" in text
    assert not (shared / "profiles").exists()


def test_a_probe_that_breaks_is_unknown_and_its_job_is_still_cleaned_up(
    start_emulator: Any,
) -> None:
    from hpcspec.hpcpack.check import run_check
    from hpcspec.hpcpack.check.model import CheckRun, ProbeResult

    def breaks(run: CheckRun) -> ProbeResult:
        run.made(run.client.create_job({"Name": run.name("broken")}))
        raise RuntimeError("a bug in a probe")

    client = _admin_client(start_emulator())
    try:
        report = run_check(client, probes=[("broken", breaks)])
    finally:
        client.close()
    assert [(f.probe, f.outcome.value) for f in report.findings] == [("broken", "unknown")]
    assert "a bug in a probe" in report.findings[0].evidence
    assert list(report.jobs.values()) == ["Canceled"]


@pytest.mark.slow  # the whole battery: ~1-3 s
def test_context_names_the_profile_file_and_keep_leaves_the_jobs(
    start_emulator: Any, run_cli: Runner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    running = start_emulator()
    config = tmp_path / "config.yaml"
    user = running.admin[0].replace("\\", "\\\\")
    config.write_text(
        f'contexts:\n  lab:\n    cluster: {running.url}\n    username: "{user}"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("HPCSPEC_CONFIG", str(config))
    monkeypatch.setenv("HPCSPEC_PASSWORD", running.admin[1])
    code, out, err = run_cli("cluster", "check", "--context", "lab", "--keep", "-o", "json")
    assert code == 0, out + err
    assert (tmp_path / "profiles" / "lab.json").is_file()
    states = {job["state"] for job in json.loads(out)["jobs"]}
    assert "Queued" in states and "Configuring" in states  # left for inspection, still held
    code, _out, err = run_cli("cluster", "check", "--context", "lab", "--cluster", running.url)
    assert code != 0 and "--context or --cluster" in err


def test_a_cluster_that_refuses_finish_still_answers_for_the_other_states(
    start_emulator: Any,
) -> None:
    from hpcspec.emulator.faults import FaultPlan, FaultRule
    from hpcspec.hpcpack.check import job_probes
    from hpcspec.hpcpack.check.model import CheckRun

    faults = FaultPlan((FaultRule(match="POST /hpc/jobs/*/finish", error_status=500),))
    client = _admin_client(start_emulator(faults=faults))
    try:
        run = CheckRun(client)
        result = job_probes.writes_by_state(run)
        for job_id in run.jobs:
            client.cancel_job(job_id)
    finally:
        client.close()
    assert [f.outcome.value for f in result.findings] == ["holds", "holds"]
    assert "Finished not reached" in result.findings[0].evidence
    assert "Queued: custom property accepted, env refused" in result.findings[0].evidence


@pytest.mark.parametrize(
    ("habit", "holds"),
    [({}, True), ({"shown_twice": True}, False), ({"skip_page": True}, False)],
)
def test_paging_each_row_once_tells_a_continuation_that_repeats_rows(
    start_emulator: Any, habit: dict[str, Any], holds: bool
) -> None:
    """The references are silent on what a continuation shows; the check follows the first
    pages one row at a time and holds them to what every listing is held to."""
    from hpcspec.hpcpack.check import run_check
    from hpcspec.hpcpack.check.cluster_probes import paging
    from tests.apply.paging import RePaged

    running = start_emulator()
    client = _admin_client(running)
    try:
        for n in range(4):
            client.create_job({"Name": f"listed-{n}"})
        if habit:
            running.emulator.server.app = RePaged(running.emulator.server.app, 0, **habit)
        report = run_check(client, probes=[("paging", paging)])
    finally:
        client.close()
    found = {f.probe: f for f in report.findings}["paging.each-row-once"]
    assert (found.outcome.value == "holds") is holds, found.evidence
    assert "GET /jobs?rowsPerRead=1, 3 pages" in found.evidence
    assert (
        holds
        or "again: the listing repeats rows" in found.evidence
        or "; in one page" in found.evidence
    )


@pytest.mark.parametrize("drop", ["", "ClientSource"])
def test_paging_identity_columns_tells_a_listing_that_leaves_out_a_property_asked_for(
    start_emulator: Any, drop: str
) -> None:
    """hpcspec refuses a listing row without Name, State or ClientSource (it cannot tell whose
    the job is): the check says beforehand whether the cluster sends them."""
    from hpcspec.hpcpack.check import run_check
    from hpcspec.hpcpack.check.cluster_probes import paging
    from tests.apply.paging import RePaged

    running = start_emulator()
    client = _admin_client(running)
    try:
        client.create_job({"Name": "listed"})
        running.emulator.server.app = RePaged(running.emulator.server.app, 0, drop=drop)
        report = run_check(client, probes=[("paging", paging)])
    finally:
        client.close()
    found = {f.probe: f for f in report.findings}["paging.identity-columns"]
    assert (found.outcome.value == "holds") is not drop, found.evidence
    if drop:  # not an empty value left out: job 1's row had none, the check's own job has one
        assert "1 without one (jobs 1); job 2 holds ClientSource" in found.evidence
    else:
        assert found.evidence.endswith("all")


class RefusesContinuations:
    """WSGI middleware: a `GET /hpc/jobs` that carries a `queryId` is answered 400, as a server
    whose continuation expired or is not supported would."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start: Any) -> Any:
        if environ["PATH_INFO"] == "/hpc/jobs" and "queryId=" in environ["QUERY_STRING"]:
            body = b'"The query has expired."'
            start("400 Bad Request", [("Content-Type", "application/json")])
            return [body]
        return self.app(environ, start)


def test_a_continuation_the_server_refuses_is_a_finding_not_the_loss_of_the_paging_probe(
    start_emulator: Any,
) -> None:
    """Before: the error on the second page escaped the probe, which then said nothing at all
    (`paging.small-pages`, `paging.max-rows` and `paging.identity-columns` were lost too)."""
    from hpcspec.hpcpack.check import run_check
    from hpcspec.hpcpack.check.cluster_probes import paging

    running = start_emulator()
    client = _admin_client(running)
    try:
        for n in range(4):
            client.create_job({"Name": f"listed-{n}"})
        running.emulator.server.app = RefusesContinuations(running.emulator.server.app)
        report = run_check(client, probes=[("paging", paging)])
    finally:
        client.close()
    found = {f.probe: f for f in report.findings}
    assert found["paging.each-row-once"].outcome.value == "differs", found
    assert "expired" in found["paging.each-row-once"].evidence
    assert found["paging.identity-columns"].outcome.value == "holds"
