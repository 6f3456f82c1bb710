"""The cluster-wide part of the REST client: version, head node, nodes, node groups, templates.

Nodes are where the cluster's version serves them (issue 15): `/nodes*` (RestObjects, HPC Pack
2016 Update 3, `openapi/hpcpack-rest-2016u3.json`) or `/cluster/nodes*` and
`/cluster/nodeGroups*` (typed `Node`/`NodeGroup` objects, HPC Pack 2019 and the 2020 revision
of 2016 U3, `openapi/hpcpack-rest-2019.json`); the methods give the same shapes either way.

Also `read_cluster_info(client)`, the one-screen summary `hpcspec cluster info` shows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from hpcspec.hpcpack import codec, errors
from hpcspec.hpcpack.client.base import ClientBase
from hpcspec.hpcpack.codec import PropertyMap
from hpcspec.hpcpack.listing import filter_expression, iter_rows, with_key
from hpcspec.hpcpack.profile import NodeEndpoints


@dataclass(frozen=True)
class NodeGroup:
    """One node group: its name and description (`GET /nodes/groups`)."""

    name: str
    description: str = ""


# The 2016 NodePropertyIds names of the typed `Node` fields of /cluster/nodes (2019).
_NODE_NAMES = {"Cores": "NumCores", "Sockets": "NumSockets", "Groups": "NodeGroups"}


def _node_row(node: PropertyMap) -> PropertyMap:
    """A typed 2019 `Node` as the 2016 listing's row (its own names kept too)."""
    values = dict(node.items())
    values.update({old: node.text(new) for new, old in _NODE_NAMES.items() if new in node})
    return PropertyMap(values)


class ClusterOperations(ClientBase):
    """`/cluster/*`, the nodes and node groups (`/nodes*` on 2016 Update 3, `/cluster/nodes*`
    and `/cluster/nodeGroups*` on 2019 and the 2020 revision of 2016 U3, by the profile's
    `node_endpoints`, else found on first use) and `/jobs/templates`."""

    def version(self) -> str:
        """GET /cluster/version: the HPC Pack version, e.g. `5.3.6450.0`."""
        return self._call("GET", "/cluster/version", codec.decode_string)

    def active_head_node(self) -> str:
        """GET /cluster/activeHeadNode: the name of the active head node."""
        return self._call("GET", "/cluster/activeHeadNode", codec.decode_string)

    # -- which endpoints ---------------------------------------------------------------------

    def node_endpoints(self) -> NodeEndpoints:
        """Where this cluster lists nodes: its profile's answer, else asked once (the 2016
        `GET /nodes/groups`; a 404 there means the 2019 family, if `/cluster/nodeGroups`
        answers)."""
        if self.profile.knows("node_endpoints"):
            return self.profile.node_endpoints
        self._groups_detecting()
        return self.profile.node_endpoints

    def _groups_detecting(self) -> list[PropertyMap]:
        """The node groups' rows, learning which endpoint family the cluster serves."""
        try:
            rows = self._call("GET", "/nodes/groups", codec.decode_objects)
            found = NodeEndpoints.NODES
        except errors.NotFound:
            rows = self._call("GET", "/cluster/nodeGroups", codec.decode_typed_objects)
            found = NodeEndpoints.CLUSTER
        # Told only when hpcspec adapts (the 2019 family); the 2016 answer is saved silently.
        note = (
            "nodes are listed at /cluster/nodes* (HPC Pack 2019)"
            if found is NodeEndpoints.CLUSTER
            else ""
        )
        self.learn(note, node_endpoints=found)
        return rows

    def _on_2019(self) -> bool:
        return self.node_endpoints() is NodeEndpoints.CLUSTER

    # -- nodes and groups --------------------------------------------------------------------

    def iter_nodes(
        self,
        *,
        properties: Sequence[str] | None = None,
        state: str | None = None,
        sort_by: str | None = None,
        rows_per_read: int = 1000,
    ) -> Iterator[PropertyMap]:
        """GET /nodes, paged lazily; `state` filters by NodeState (e.g. Online). On 2019,
        GET /cluster/nodes?state=… (one page of typed Nodes, with the 2016 names added)."""
        if self._on_2019():
            nodes = self._call(
                "GET", "/cluster/nodes", codec.decode_typed_objects, params={"state": state}
            )
            rows = [_node_row(n) for n in nodes]
            if sort_by:
                rows.sort(key=lambda r: r.text(sort_by).lower())
            return iter(rows)
        params = {
            "properties": with_key(properties, "Name"),
            "$filter": filter_expression([("NodeState", state)] if state else []),
            "sortNodesBy": sort_by,
            "rowsPerRead": str(rows_per_read),
        }
        return iter_rows(self.transport, "/nodes", params, key="Name")

    def node_names(self) -> list[str]:
        """The name of every node (GET /nodes?properties=Name, or /cluster/nodes)."""
        return [row.text("Name") for row in self.iter_nodes(properties=["Name"])]

    def node(self, name: str) -> PropertyMap:
        """GET /nodes/{name} (2019: /cluster/nodes/{name}): every property of one node."""
        if self._on_2019():
            found = self._call("GET", f"/cluster/nodes/{name}", codec.decode_typed_object)
            return _node_row(found)
        return self._call("GET", f"/nodes/{name}", codec.decode_properties)

    def node_groups(self) -> list[NodeGroup]:
        """GET /nodes/groups (2019: /cluster/nodeGroups): every node group, described."""
        if self.profile.knows("node_endpoints") and not self._on_2019():
            rows = self._call("GET", "/nodes/groups", codec.decode_objects)
        elif self.profile.knows("node_endpoints"):
            rows = self._call("GET", "/cluster/nodeGroups", codec.decode_typed_objects)
        else:
            rows = self._groups_detecting()
        return [NodeGroup(r.text("Name"), r.text("Description")) for r in rows]

    def node_group_members(self, name: str) -> list[str]:
        """GET /nodes/groups/{name} (2019: /cluster/nodes?group=…): the nodes of a group."""
        if self._on_2019():
            params = {"group": name}
            nodes = self._call("GET", "/cluster/nodes", codec.decode_typed_objects, params=params)
            return [n.text("Name") for n in nodes]
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
