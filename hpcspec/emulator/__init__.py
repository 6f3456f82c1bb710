"""The HPC Pack REST API 2016 emulator (DESIGN.md §7): a WSGI app on SQLite.

`store` (SQLite state) · `scheduler`/`tasks` (operations) · `dispatch`/`running` (the clock)
· `api`/`handlers`/`bodies`/`listing` (HTTP) · `jobxml_import` · `executors` · `faults`
· `server` (a running emulator) · `local` (the embedded local cluster). It speaks only the
`hpcspec.hpcpack` vocabulary, never our client or transport, so it cannot confirm the
client's misreadings.
"""

from hpcspec.emulator.api import User
from hpcspec.emulator.cluster import ClusterSpec
from hpcspec.emulator.scheduler import Timings
from hpcspec.emulator.server import Emulator, EmulatorOptions

__all__ = ["ClusterSpec", "Emulator", "EmulatorOptions", "Timings", "User"]
