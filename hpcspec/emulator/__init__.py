"""The HPC Pack REST API 2016 emulator (DESIGN.md §7): a WSGI app on SQLite.

How a request flows: `server` (threads, HTTP/1.1) → `faults` (injected latency and errors) →
`api` (routes, Basic auth, `x-ms-as-user`) → `bodies` (JSON/XML in and out) → `handlers` (one
function per REST operation; `listing` for queries) → `scheduler` (job operations) and
`task_operations` (task operations), which check values with `job_settings`/`task_settings`
and change rows only through `state_machine` (every job and task state rule) → `store`
(SQLite; `rows` are what it keeps). The clock: `clock` (validation, starting jobs,
`allocation` of nodes) → `task_runner` (a running job's tasks) → `task_launch` + `executors`
(simulate or local processes). `jobxml_import` is the job file importer, `sweeps` the sweep
expander, `views` what clients read back, `errors` the scheduler's messages. `local` is the
embedded local cluster; `options` and `seed` serve the CLI and tests.

It speaks only the `hpcspec.hpcpack` vocabulary, never our client or transport, so it cannot
confirm the client's misreadings.
"""

from hpcspec.emulator.api import User
from hpcspec.emulator.cluster import ClusterSpec
from hpcspec.emulator.scheduler import Timings
from hpcspec.emulator.server import Emulator, EmulatorOptions

__all__ = ["ClusterSpec", "Emulator", "EmulatorOptions", "Timings", "User"]
