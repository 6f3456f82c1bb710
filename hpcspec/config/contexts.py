"""The contexts file: named clusters in `<user config dir>/hpcspec/config.yaml`.

Read with the safe YAML loader (no tags, no Python objects), checked key by key, never with
a password in it; written private to the user (directory 0700, file 0600). Format:
`docs/configuration.md`.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from hpcspec.capped_read import FileTooLarge, read_capped
from hpcspec.config.environment import ConfigError, env_setting
from hpcspec.host import shared_with_others
from hpcspec.whole_write import replace_file

ENV_CONFIG = "HPCSPEC_CONFIG"
MAX_FILE_BYTES = 1024 * 1024
CONTEXT_KEYS = {"cluster", "username", "asUser", "caBundle", "insecure", "timeout"}


@dataclass(frozen=True)
class Context:
    """One named cluster in the contexts file."""

    name: str
    cluster: str
    username: str | None = None
    as_user: str | None = None
    ca_bundle: str | None = None
    insecure: bool = False
    timeout: float | None = None


@dataclass(frozen=True)
class ContextsFile:
    """The contexts file as read (an absent file is an empty one)."""

    path: Path
    current: str | None = None
    contexts: tuple[Context, ...] = ()
    exposed: str | None = None  # why others may change it (`exposure`), if they may

    def warning(self) -> str | None:
        """What to tell a user whose cluster comes from this file, when others may change it:
        they choose where the password goes (ssh refuses such a config; hpcspec warns, since
        a volume mounted into a container is owned by a uid the container does not have)."""
        if self.exposed is None:
            return None
        return (
            f"others may change the contexts file {self.path} ({self.exposed}), and with it "
            "the cluster your password is sent to; make it and its folder yours alone "
            "(chmod go-w)"
        )

    def get(self, name: str) -> Context | None:
        return next((c for c in self.contexts if c.name == name), None)


def contexts_path(env: Mapping[str, str]) -> Path:
    """`HPCSPEC_CONFIG`, else `config.yaml` in the user's config dir (platformdirs)."""
    given = env_setting(env, ENV_CONFIG)
    if given is not None:
        return Path(given).expanduser()
    import platformdirs

    return platformdirs.user_config_path("hpcspec") / "config.yaml"


def load_contexts(path: Path) -> ContextsFile:
    """The contexts file at `path`, parsed safely (no tags, no aliases); absent → empty."""
    try:
        data = read_capped(path, MAX_FILE_BYTES)
    except FileNotFoundError:
        return ContextsFile(path)
    except FileTooLarge as too_large:
        raise ConfigError(f"cannot read the contexts file: {too_large}", file=path) from None
    except OSError as failure:
        raise ConfigError(f"cannot read the contexts file: {failure.strerror}", file=path) from None
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        document = YAML(typ="safe", pure=False).load(data) or {}
    except YAMLError as bad:
        raise ConfigError(
            f"the contexts file is not valid YAML: {_yaml_problem(bad)}", file=path
        ) from None
    return replace(_contexts(document, path), exposed=exposure(path))


def exposure(path: Path) -> str | None:
    """Why others may change the file at `path` (it, or the folder holding it, is theirs or
    open to their writes: `host.shared_with_others`), or None."""
    for place, name in ((path, "the file"), (path.parent, "its folder")):
        try:
            why = shared_with_others(place)
        except OSError:
            continue
        if why:
            return f"{name}: {why}"
    return None


def _yaml_problem(bad: Exception) -> str:
    """What is wrong and where, without the values ruamel quotes: a key given twice is told
    "with value … (original value: …)", and that key may be the `password` this file must not
    hold — the message goes to CI logs."""
    from ruamel.yaml.constructor import DuplicateKeyError
    from ruamel.yaml.error import MarkedYAMLError

    if not isinstance(bad, MarkedYAMLError):  # the reader's: a character and its position
        return str(bad)
    mark = bad.problem_mark or bad.context_mark
    where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
    if isinstance(bad, DuplicateKeyError):
        return f"a key appears twice in one mapping{where}"
    return f"{bad.problem or bad.context or 'invalid YAML'}{where}"


def _contexts(document: Any, path: Path) -> ContextsFile:
    if not isinstance(document, dict):
        raise ConfigError("the contexts file must be a mapping", file=path)
    unknown = set(document) - {"currentContext", "contexts"}
    if unknown:
        raise ConfigError(f"unknown keys in the contexts file: {sorted(unknown)}", file=path)
    raw = document.get("contexts") or {}
    if not isinstance(raw, dict):
        raise ConfigError("`contexts` must map context names to settings", file=path)
    contexts = [_context(str(name), body, path) for name, body in raw.items()]
    current = document.get("currentContext")
    if current is not None and not any(c.name == current for c in contexts):
        raise ConfigError(f"currentContext {current!r} is not one of the contexts", file=path)
    return ContextsFile(path, current and str(current), tuple(contexts))


def _context(name: str, body: Any, path: Path) -> Context:
    where = f"contexts.{name}"
    if not isinstance(body, dict):
        raise ConfigError(f"{where} must be a mapping", file=path)
    if any(str(k).lower() == "password" for k in body):
        raise ConfigError(
            f"{where} has a password; hpcspec never reads passwords from files",
            hint="use HPCSPEC_PASSWORD, --password-stdin, a keyring or the prompt",
            file=path,
        )
    unknown = set(body) - CONTEXT_KEYS
    if unknown:
        raise ConfigError(f"{where}: unknown keys {sorted(unknown)}", file=path)
    if not isinstance(body.get("cluster"), str):
        raise ConfigError(f"{where}.cluster must be the REST API URL", file=path)
    timeout = body.get("timeout")
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, int | float)):
        raise ConfigError(f"{where}.timeout must be a number of seconds", file=path)
    if not isinstance(body.get("insecure", False), bool):
        raise ConfigError(f"{where}.insecure must be true or false", file=path)
    text = {k: (str(body[k]) if body.get(k) is not None else None) for k in CONTEXT_KEYS}
    return Context(
        name=name,
        cluster=str(body["cluster"]),
        username=text["username"],
        as_user=text["asUser"],
        ca_bundle=text["caBundle"],
        insecure=bool(body.get("insecure", False)),
        timeout=float(timeout) if timeout is not None else None,
    )


def save_contexts(contexts: ContextsFile) -> None:
    """Write the contexts file (private to the user: directory 0700, file 0600)."""
    from ruamel.yaml import YAML

    document: dict[str, Any] = {}
    if contexts.current:
        document["currentContext"] = contexts.current
    document["contexts"] = {
        c.name: {
            k: v
            for k, v in {
                "cluster": c.cluster,
                "username": c.username,
                "asUser": c.as_user,
                "caBundle": c.ca_bundle,
                "insecure": c.insecure or None,
                "timeout": c.timeout,
            }.items()
            if v is not None
        }
        for c in contexts.contexts
    }
    contexts.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    text = io.StringIO()
    yaml.dump(document, text)
    replace_file(contexts.path, text.getvalue().encode("utf-8"))


def with_context(contexts: ContextsFile, context: Context, *, make_current: bool) -> ContextsFile:
    """`contexts` with `context` added or replaced (and made current if asked)."""
    others = tuple(c for c in contexts.contexts if c.name != context.name)
    current = context.name if make_current else contexts.current
    return replace(contexts, contexts=(*others, context), current=current)
