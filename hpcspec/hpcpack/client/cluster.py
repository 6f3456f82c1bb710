"""The cluster-wide part of the REST client: version, head node, nodes, node groups, templates.

Also `read_cluster_info(client)`, the one-screen summary `hpcspec cluster info` shows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from hpcspec.hpcpack import codec
from hpcspec.hpcpack.client.base import ClientBase
from hpcspec.hpcpack.codec import PropertyMap
from hpcspec.hpcpack.listing import filter_expression, iter_rows, with_key


@dataclass(frozen=True)
class NodeGroup:
    """One node group: its name and description (`GET /nodes/groups`)."""

    name: str
    description: str = ""


class ClusterOperations(ClientBase):
    """`/cluster/*`, `/nodes*` and `/jobs/templates`."""

    def version(self) -> str:
        """GET /cluster/version: the HPC Pack version, e.g. `5.3.6450.0`."""
        return self._call("GET", "/cluster/version", codec.decode_string)

    def active_head_node(self) -> str:
        """GET /cluster/activeHeadNode: the name of the active head node."""
        return self._call("GET", "/cluster/activeHeadNode", codec.decode_string)

    def iter_nodes(
        self,
        *,
        properties: Sequence[str] | None = None,
        state: str | None = None,
        sort_by: str | None = None,
        rows_per_read: int = 1000,
    ) -> Iterator[PropertyMap]:
        """GET /nodes, paged lazily; `state` filters by NodeState (e.g. Online)."""
        params = {
            "properties": with_key(properties, "Name"),
            "$filter": filter_expression([("NodeState", state)] if state else []),
            "sortNodesBy": sort_by,
            "rowsPerRead": str(rows_per_read),
        }
        return iter_rows(self.transport, "/nodes", params, key="Name")

    def node_names(self) -> list[str]:
        """GET /nodes?properties=Name: the name of every node."""
        return [row.text("Name") for row in self.iter_nodes(properties=["Name"])]

    def node(self, name: str) -> PropertyMap:
        """GET /nodes/{name}: every property of one node."""
        return self._call("GET", f"/nodes/{name}", codec.decode_properties)

    def node_groups(self) -> list[NodeGroup]:
        """GET /nodes/groups: every node group with its description."""
        rows = self._call("GET", "/nodes/groups", codec.decode_objects)
        return [NodeGroup(r.text("Name"), r.text("Description")) for r in rows]

    def node_group_members(self, name: str) -> list[str]:
        """GET /nodes/groups/{name}: the names of the nodes in a group."""
        return self._call("GET", f"/nodes/groups/{name}", codec.decode_strings)

    def job_templates(self) -> list[str]:
        """GET /jobs/templates: the names of the job templates (includes `Default`)."""
        return self._call("GET", "/jobs/templates", codec.decode_strings)


@dataclass(frozen=True)
class ClusterInfo:
    """What `hpcspec cluster info` shows."""

    url: str
    version: str
    active_head_node: str
    date_time_format: str
    node_groups: tuple[tuple[NodeGroup, tuple[str, ...]], ...]
    nodes_by_state: tuple[tuple[str, int], ...]
    job_templates: tuple[str, ...]

    def as_dict(self) -> dict[str, object]:
        return {
            "url": self.url,
            "version": self.version,
            "active_head_node": self.active_head_node,
            "date_time_format": self.date_time_format,
            "node_groups": [
                {"name": g.name, "description": g.description, "members": list(members)}
                for g, members in self.node_groups
            ],
            "nodes_by_state": dict(self.nodes_by_state),
            "job_templates": list(self.job_templates),
        }


def read_cluster_info(client: ClusterOperations) -> ClusterInfo:
    """Version, head node, date format, node groups with members, nodes by state, templates."""
    groups = tuple(
        (group, tuple(client.node_group_members(group.name))) for group in client.node_groups()
    )
    states = Counter(
        row.text("State") or "Unknown" for row in client.iter_nodes(properties=["State"])
    )
    return ClusterInfo(
        url=client.transport.base_url,
        version=client.version(),
        active_head_node=client.active_head_node(),
        date_time_format=client.date_time_format(),
        node_groups=groups,
        nodes_by_state=tuple(sorted(states.items())),
        job_templates=tuple(client.job_templates()),
    )
