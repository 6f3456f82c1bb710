"""A drift report → text, markdown and JSON (pure): what someone changed on the cluster.

`render_drift_text` for terminals and logs, `render_drift_markdown` for CI step summaries,
`render_drift_json` (`drift_document`) for `--output json` (`DRIFT_FORMAT_VERSION`; docs/cli.md).
"""

from __future__ import annotations

from hpcspec.engine.drift import DriftReport, JobDrift
from hpcspec.engine.plan import FieldDiff
from hpcspec.render.markdown import escape, literal
from hpcspec.render.neutralise import inert_json, neutralise, told_apart
from hpcspec.render.phrases import field_label, quoted

DRIFT_FORMAT_VERSION = "1.0"


def _job(job: JobDrift) -> str:
    return f"{neutralise(job.key)}" + (f" (job {job.job_id}, {job.state})" if job.job_id else "")


def _values(diff: FieldDiff) -> str:
    live = "absent" if diff.before is None else quoted(diff.before)
    wanted = "absent" if diff.after is None else quoted(diff.after)
    live, wanted = told_apart(live, wanted)
    return f"live {live}, manifest {wanted}"


def _cells(diff: FieldDiff) -> str:
    """The live and manifest cells of a markdown row, told apart where they look alike."""
    live, wanted = told_apart(
        neutralise(diff.before or "absent"), neutralise(diff.after or "absent")
    )
    return f"{escape(live)} | {escape(wanted)}"


def _summary(report: DriftReport) -> str:
    drifted = [j for j in report.jobs if j.drifted]
    if not drifted:
        return f"No drift in stack {report.stack}: the live jobs match what was applied."
    fields = sum(len(j.diffs) for j in drifted)
    return f"Drift in stack {report.stack}: {fields} field(s) in {len(drifted)} job(s)."


def render_drift_text(report: DriftReport) -> str:
    """A summary line, then one line per drifted field (and per job not compared)."""
    lines = [neutralise(_summary(report))]
    for job in report.jobs:
        if job.skipped:
            lines.append(f"  {_job(job)}: not compared ({job.skipped})")
        for diff in job.diffs:
            lines.append(f"  ~ {_job(job)}: {field_label(diff)}: {_values(diff)}")
    return "\n".join(lines) + "\n"


def render_drift_markdown(report: DriftReport) -> str:
    """A heading, the summary in bold and a table of drifted fields."""
    out = [f"### hpcspec drift: stack <code>{literal(report.stack)}</code>", ""]
    out += [f"**{escape(neutralise(_summary(report)))}**", ""]
    rows = [(j, d) for j in report.jobs for d in j.diffs]
    if rows:
        out += ["| Job | Field | Live | Manifest |", "| :-- | :-- | :-- | :-- |"]
        out += [
            f"| {escape(_job(j))} | <code>{escape(field_label(d))}</code> | {_cells(d)} |"
            for j, d in rows
        ]
        out.append("")
    return "\n".join(out) + "\n"


def drift_document(report: DriftReport) -> dict[str, object]:
    """The report as JSON data (`format_version` 1.0)."""
    return {
        "format_version": DRIFT_FORMAT_VERSION,
        "stack": report.stack,
        "drifted": report.drifted,
        "jobs": [
            {
                "key": j.key,
                "job_id": j.job_id,
                "state": j.state,
                "skipped": j.skipped or None,
                "diffs": [
                    {
                        "section": d.section,
                        "name": d.name,
                        "live": d.before,
                        "manifest": d.after,
                        "sensitive": d.sensitive,
                    }
                    for d in j.diffs
                ],
            }
            for j in report.jobs
        ],
    }


def render_drift_json(report: DriftReport) -> str:
    """The JSON document, inert in a CI log (every `#` written `\\u0023`)."""
    return inert_json(drift_document(report))
