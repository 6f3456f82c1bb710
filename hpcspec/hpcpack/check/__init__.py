"""`hpcspec cluster check`: probes proving (or disproving) hpcspec's HPC Pack model on a head node.

Issue 15. Lives in `hpcpack` because every probe speaks only HTTP-level HPC Pack facts through
the client and transport (and `--record` wraps the HTTP session, which only hpcpack may touch);
the CLI (`cli/cluster_cmd.py`) shows the report and saves the profile. Flow: `battery.run_check`
→ the probes (`cluster_probes.py`, `job_probes.py`; findings in `model.py`) → a `CheckReport`
with the measured `ClusterProfile`; `trace.py` records and replays the HTTP exchange.
Docs: `docs/cluster-check.md`.
"""

from hpcspec.hpcpack.check.battery import LAST, PROBES, CheckReport, run_check
from hpcspec.hpcpack.check.model import JOB_PREFIX, Finding, Outcome

__all__ = ["JOB_PREFIX", "LAST", "PROBES", "CheckReport", "Finding", "Outcome", "run_check"]
