"""Where cluster profiles live: one JSON file per context, next to the contexts file.

A profile (`hpcspec.hpcpack.profile.ClusterProfile`) records what one cluster really does
where HPC Pack clusters differ. `hpcspec cluster check` measures and saves it; without one, the
client detects the critical facts on first use and saves what it found (a partial profile,
`unverified` naming the rest), so each is detected, and warned about, once. Files:

    <config dir>/profiles/<context>.json          a context's cluster
    <config dir>/profiles/url-<host>-<hash>.json  a cluster named by URL (--cluster URL)

`<config dir>` is the contexts file's folder (`HPCSPEC_CONFIG`'s, or the user config dir);
files are private to the user (folder 0700, file 0600). The embedded local cluster has no
profile file: it is hpcspec's own emulator, whose profile is `ClusterProfile()`. Docs:
`docs/cluster-check.md`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from hpcspec.capped_read import FileTooLarge, read_capped
from hpcspec.config.contexts import ENV_CONFIG
from hpcspec.config.environment import ConfigError
from hpcspec.config.state import (
    StateDirError,
    cluster_key,
    cluster_state_dir,
    make_private_dir,
    state_dir,
)
from hpcspec.hpcpack.profile import ClusterProfile, ProfileError
from hpcspec.whole_write import replace_file

FOLDER = "profiles"
MAX_PROFILE_BYTES = 256 * 1024
_PLAIN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$")
_UNSAFE = re.compile(r"[^a-z0-9.-]+")


def _short_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def profile_path(config_dir: Path, *, context: str | None, url: str | None) -> Path | None:
    """The profile file of a context (or, without one, of a cluster URL) in `config_dir` (the
    contexts file's folder); None for neither."""
    folder = config_dir / FOLDER
    if context:
        name = context if _PLAIN.match(context) else f"ctx-{_short_hash(context)}"
        return folder / f"{name}.json"
    if url:
        key = cluster_key(url)
        host = _UNSAFE.sub("-", urlsplit(key).netloc.replace(":", "-")).strip("-.") or "cluster"
        return folder / f"url-{host}-{_short_hash(key)}.json"
    return None


def same_cluster(source: str, url: str | None) -> bool:
    """Whether a profile measured at `source` describes the cluster at `url` (a hand-written
    profile, with no source, describes whichever cluster it is saved for)."""
    if not source:
        return True
    return url is not None and cluster_key(source) == cluster_key(url)


def load_profile(path: Path | None) -> ClusterProfile | None:
    """The profile saved at `path`; None when there is none. A broken file is an error that
    names it (and how to start again)."""
    if path is None:
        return None
    try:
        data = read_capped(path, MAX_PROFILE_BYTES)
    except FileNotFoundError:
        return None
    except FileTooLarge as too_large:
        raise ConfigError(f"cannot read the cluster profile: {too_large}", file=path) from None
    except OSError as failure:
        why = failure.strerror
        raise ConfigError(f"cannot read the cluster profile: {why}", file=path) from None
    try:
        return ClusterProfile.from_json(data.decode("utf-8", "replace"), where=str(path))
    except ProfileError as bad:
        raise ConfigError(
            bad.message,
            hint=f"run `hpcspec cluster check` again, or delete {path}",
            file=path,
        ) from None


IDENTITIES = "identities.json"  # per cluster, in its state dir: see `load_identities`
MAX_IDENTITIES_BYTES = 64 * 1024 * 1024  # a cache: past this it is read again from the cluster


def load_identities(cluster: str, env: Mapping[str, str] = os.environ) -> dict[str, list[str]]:
    """The cluster's cache of job id -> [stack, key] (`engine/custom_identity.py`), kept where
    the cluster does not keep ClientSource; empty when there is none or it cannot be read (it
    is only a cache: every entry can be read again from the cluster)."""
    path = cluster_state_dir(cluster, env) / IDENTITIES
    try:
        data = json.loads(read_capped(path, MAX_IDENTITIES_BYTES))
    except (OSError, ValueError, FileTooLarge):
        return {}
    if not isinstance(data, dict) or data.get("format") != 1:
        return {}
    jobs = data.get("jobs", {})
    return {
        str(k): [str(x) for x in v]
        for k, v in (jobs.items() if isinstance(jobs, dict) else ())
        if isinstance(v, list) and len(v) in (0, 2)
    }


def save_identities(
    cluster: str, identities: Mapping[str, list[str]], env: Mapping[str, str] = os.environ
) -> None:
    """Write the cluster's job identity cache (atomically, private to the user)."""
    folder = make_private_dir(cluster_state_dir(cluster, env), root=state_dir(env))
    document = {"format": 1, "jobs": dict(identities)}
    replace_file(folder / IDENTITIES, json.dumps(document).encode("utf-8"))


def save_profile(path: Path, profile: ClusterProfile) -> Path:
    """Write `profile` to `path` (atomically; folder 0700, file 0600); returns the path."""
    make_private_dir(path.parent, root=path.parent.parent, moved_by=ENV_CONFIG)
    replace_file(path, profile.to_json().encode("utf-8"))
    return path


def profile_not_saved(path: Path, profile: ClusterProfile) -> str | None:
    """Save `profile` as `save_profile` does, as the cache it is: why it could not be saved (a
    folder that cannot be made or written, or one hpcspec will not keep state in), or None."""
    try:
        save_profile(path, profile)
    except OSError as failure:
        return f"{path}: {failure.strerror or failure}"
    except StateDirError as failure:
        return failure.message
    return None
