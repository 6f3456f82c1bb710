"""Where hpcspec keeps its per-user state: the local cluster, and what it knows per cluster+stack.

One directory per user, never per working directory, so `cd examples && hpcspec status …`
sees the same local cluster and the same records as the directory above (issue 14):

    <state dir>/                      HPCSPEC_STATE_DIR, else platformdirs' user state dir
      local/                          the embedded local cluster (`local_cluster_dir`)
      clusters/<cluster>/stacks/<stack>/   per cluster and stack (`stack_state_dir`): the journal

`<cluster>` is `local` for the embedded local cluster (its URL changes with each start) and
`<host>[-<port>]-<hash of the URL>` for any other. Every directory is created private to the
user (0700); one that exists already must be the user's own and closed to others' writes
(`host.shared_with_others`), or hpcspec refuses it rather than keep its journal or the local
cluster's password where someone else could plant a link. A directory that cannot be made
is a `StateDirError` naming it. Docs: `docs/configuration.md`.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from hpcspec.config.environment import ConfigError, env_setting
from hpcspec.host import owner_only, shared_with_others

ENV_STATE_DIR = "HPCSPEC_STATE_DIR"
LOCAL = "local"  # the cluster key of the embedded local cluster
_STACK = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")  # the manifest's stack name rule
_UNSAFE = re.compile(r"[^a-z0-9.-]+")


def state_dir(env: Mapping[str, str]) -> Path:
    """`HPCSPEC_STATE_DIR`, else the user state directory (`~/.local/state/hpcspec` on Linux)."""
    given = env_setting(env, ENV_STATE_DIR)
    if given is not None:
        return Path(given).expanduser()
    import platformdirs

    return platformdirs.user_state_path("hpcspec")


def local_cluster_dir(env: Mapping[str, str], *, create: bool = False) -> Path:
    """The embedded local cluster's directory (database, credentials, log, task work dirs)."""
    root = state_dir(env)
    return make_private_dir(root / LOCAL, root=root) if create else root / LOCAL


def cluster_key(url: str) -> str:
    """The canonical form of a cluster URL: scheme and host lower-cased, default port and
    trailing slash dropped — two spellings of one REST API share their state."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    default = {"http": 80, "https": 443}.get(scheme)
    netloc = host if port in (None, default) else f"{host}:{port}"
    return f"{scheme}://{netloc}{parts.path.rstrip('/')}"


def stack_state_dir(
    cluster: str, stack: str, env: Mapping[str, str] = os.environ, *, create: bool = True
) -> Path:
    """The per-user state directory of one stack on one cluster (the journal lives here).

    `cluster` is the cluster's URL, or `local` for the embedded local cluster
    (`ClusterConfig.state_key` gives the right one).
    """
    if not _STACK.match(stack) or len(stack) > 64:
        raise ValueError(f"{stack!r} is not a stack name")
    path = state_dir(env) / "clusters" / _cluster_folder(cluster) / "stacks" / stack
    if create:
        make_private_dir(path, root=state_dir(env))
    return path


def cluster_state_dir(cluster: str, env: Mapping[str, str] = os.environ) -> Path:
    """The per-user state directory of one cluster (not created): its stacks live below it."""
    return state_dir(env) / "clusters" / _cluster_folder(cluster)


def _cluster_folder(cluster: str) -> str:
    if cluster == LOCAL:
        return LOCAL
    key = cluster_key(cluster)
    parts = urlsplit(key)
    readable = _UNSAFE.sub("-", parts.netloc.replace(":", "-")).strip("-.") or "cluster"
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:12]
    return f"{readable}-{digest}"


class StateDirError(ConfigError):
    """A state directory hpcspec cannot make, or will not use (not the user's alone)."""


def make_private_dir(path: Path, *, root: Path, moved_by: str = ENV_STATE_DIR) -> Path:
    """Create `root` and `path` below it as needed, each new directory readable by the user
    alone (`host.owner_only`); a directory that already exists keeps its mode (it may be the
    user's own) but must not be open to others (`host.shared_with_others`). `moved_by` is
    the variable that puts `root` elsewhere (for the error's hint)."""
    below = path.relative_to(root).parts if path != root else ()
    for directory in [root, *(root.joinpath(*below[: i + 1]) for i in range(len(below)))]:
        try:
            if not directory.is_dir():
                directory.mkdir(parents=True, exist_ok=True, mode=0o700)
                owner_only(directory)  # 0700 whatever the umask; on Windows an owner-only ACL
            why = shared_with_others(directory)
        except OSError as failure:
            raise StateDirError(
                f"cannot make the state directory {directory}: {failure.strerror or failure}",
                hint=f"make {root} writable, or set {moved_by} to put it where you can write",
                file=directory,
            ) from None
        if why:
            raise StateDirError(
                f"will not keep state in {directory}: {why}",
                hint=f"make it yours alone (chmod go-w), or set {moved_by} to put it in a "
                "private directory",
                file=directory,
            )
    return path
