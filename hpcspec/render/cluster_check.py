"""How `hpcspec cluster check` shows its report: aligned text or a Markdown table.

The last step of `cluster check` (`cli/cluster_cmd.py`): the `CheckReport` of
`hpcpack.check.battery` in, lines out. JSON is the report's own `as_dict`.
"""

from __future__ import annotations

from hpcspec.hpcpack.check import CheckReport, Outcome
from hpcspec.render.markdown import literal
from hpcspec.render.neutralise import neutralise

_MARK = {Outcome.HOLDS: "holds", Outcome.DIFFERS: "DIFFERS", Outcome.UNKNOWN: "unknown"}


def _tally(report: CheckReport) -> str:
    counts = {o: sum(f.outcome is o for f in report.findings) for o in Outcome}
    return ", ".join(f"{n} {o.value}" for o, n in counts.items() if n)


def _jobs(report: CheckReport) -> str:
    ends = sorted(set(report.jobs.values()))
    made = len(report.jobs)
    return f"{made} throwaway job(s) ({report.prefix}*), ending {', '.join(ends) or 'none'}"


def render_text(report: CheckReport, saved: str) -> str:
    """The report as aligned lines: one per finding, its evidence indented below."""
    width = max((len(f.probe) for f in report.findings), default=0)
    lines = [f"cluster check of {neutralise(report.url)}", ""]
    for f in report.findings:
        lines.append(f"{_MARK[f.outcome]:<8} {f.probe:<{width}}  {neutralise(f.assumption)}")
        lines.append(f"{'':<8} {'':<{width}}  evidence: {neutralise(f.evidence)}")
    lines += ["", neutralise(f"{_tally(report)}; {_jobs(report)}")]
    lines += [f"clean-up failed: {neutralise(e)}" for e in report.cleanup_errors]
    lines.append(neutralise(saved))
    return "\n".join(lines)


def render_markdown(report: CheckReport, saved: str) -> str:
    """The report as a Markdown table (for an issue or a pull request); the server's words
    (evidence, clean-up errors) are neutralised and escaped like a plan's (`markdown.literal`)."""
    lines = [
        f"### <code>hpcspec cluster check</code> of {literal(report.url)}",
        "",
        "| result | probe | assumption | evidence |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {f.outcome.value} | `{f.probe}` | {literal(f.assumption)} | {literal(f.evidence)} |"
        for f in report.findings
    ]
    lines += ["", literal(f"{_tally(report)}; {_jobs(report)}.")]
    lines += [f"- clean-up failed: {literal(e)}" for e in report.cleanup_errors]
    lines.append(literal(saved))
    return "\n".join(lines)
