"""Which cluster to talk to, as whom, and how: flags, environment, contexts → `ClusterConfig`.

DESIGN.md §6. The cluster is `--cluster` (a URL or a context name), else `HPCSPEC_CLUSTER`,
else the current context of the contexts file, else none (the CLI then uses the embedded
local cluster). Every other setting goes flag > environment > context > default, and each
resolved `Setting` remembers where it came from, for `hpcspec config view`. Credentials:
`HPCSPEC_USERNAME`, and for the password `--password-stdin` > `HPCSPEC_PASSWORD` > the
optional keyring (if the `keyring` package is installed) > a prompt on a TTY — never a flag,
never the contexts file. Docs: `docs/configuration.md`.

The contexts file (`<user config dir>/hpcspec/config.yaml`, or `HPCSPEC_CONFIG`)::

    currentContext: prod
    contexts:
      prod:
        cluster: https://head.example.com/hpc
        username: 'HPC\\alice'
        caBundle: /etc/ssl/head-ca.pem
"""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any, Generic, TypeVar

from hpcspec.errors import HpcspecError, Location
from hpcspec.hpcpack.transport import Credentials, TransportOptions

log = logging.getLogger("hpcspec.config")

T = TypeVar("T")

ENV_CONFIG = "HPCSPEC_CONFIG"
ENV_CLUSTER = "HPCSPEC_CLUSTER"
ENV_USERNAME = "HPCSPEC_USERNAME"
ENV_PASSWORD = "HPCSPEC_PASSWORD"
ENV_AS_USER = "HPCSPEC_AS_USER"
ENV_CA_BUNDLE = "HPCSPEC_CA_BUNDLE"
KEYRING_SERVICE = "hpcspec"  # keyring entry: service "hpcspec <url>", user = the user name
DEFAULT_TIMEOUT = 60.0
MAX_CONNECT_TIMEOUT = 10.0
MAX_FILE_BYTES = 1024 * 1024
CONTEXT_KEYS = {"cluster", "username", "asUser", "caBundle", "insecure", "timeout"}
MASK = "********"


class ConfigError(HpcspecError):
    """The configuration is wrong or incomplete."""

    def __init__(self, message: str, *, hint: str | None = None, file: Path | None = None) -> None:
        location = Location(str(file)) if file else Location()
        super().__init__(message=message, code="config-error", hint=hint, location=location)


@dataclass(frozen=True)
class Setting(Generic[T]):
    """One effective setting and where it came from (`flag --cluster`, `env …`, `context x`)."""

    value: T
    origin: str


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

    def get(self, name: str) -> Context | None:
        return next((c for c in self.contexts if c.name == name), None)


@dataclass(frozen=True)
class ClusterFlags:
    """The global cluster options of a command line (`hpcspec.cli.options`)."""

    cluster: str | None = None
    username: str | None = None
    password_stdin: bool = False
    as_user: str | None = None
    ca_bundle: str | None = None
    insecure: bool = False
    timeout: float | None = None


@dataclass(frozen=True)
class ClusterConfig:
    """Everything needed to reach one cluster, each setting with its origin."""

    url: Setting[str | None]
    context: str | None
    username: Setting[str | None]
    password: Setting[str | None] = field(repr=False)
    as_user: Setting[str | None]
    ca_bundle: Setting[str | None]
    insecure: Setting[bool]
    timeout: Setting[float]
    config_file: Path

    @property
    def is_local(self) -> bool:
        """No cluster configured anywhere: the embedded local cluster is used."""
        return self.url.value is None

    def transport_options(self) -> TransportOptions:
        """What the transport needs (the password must have been resolved)."""
        if self.url.value is None:
            raise ConfigError("no cluster is configured")
        credentials = None
        if self.username.value is not None and self.password.value is not None:
            credentials = Credentials(self.username.value, self.password.value)
        return TransportOptions(
            base_url=self.url.value,
            credentials=credentials,
            as_user=self.as_user.value,
            ca_bundle=self.ca_bundle.value,
            insecure=self.insecure.value,
            connect_timeout=min(MAX_CONNECT_TIMEOUT, self.timeout.value),
            read_timeout=self.timeout.value,
        )

    def rows(self) -> list[tuple[str, str, str]]:
        """(setting, shown value, origin) for `config view`; the password is masked."""
        shown = {
            "cluster": self.url.value or "(embedded local cluster)",
            "context": self.context or "",
            "username": self.username.value or "",
            "password": MASK if self.password.value else "",
            "as-user": self.as_user.value or "",
            "ca-bundle": self.ca_bundle.value or "",
            "insecure": "yes" if self.insecure.value else "no",
            "timeout": f"{self.timeout.value:g}s",
        }
        origins = {
            "cluster": self.url.origin,
            "context": self.url.origin if self.context else "",
            "username": self.username.origin,
            "password": self.password.origin,
            "as-user": self.as_user.origin,
            "ca-bundle": self.ca_bundle.origin,
            "insecure": self.insecure.origin,
            "timeout": self.timeout.origin,
        }
        return [(name, shown[name], origins[name]) for name in shown]


def contexts_path(env: Mapping[str, str]) -> Path:
    """`HPCSPEC_CONFIG`, else `config.yaml` in the user's config dir (platformdirs)."""
    if env.get(ENV_CONFIG):
        return Path(env[ENV_CONFIG]).expanduser()
    import platformdirs

    return platformdirs.user_config_path("hpcspec") / "config.yaml"


def load_contexts(path: Path) -> ContextsFile:
    """The contexts file at `path`, parsed safely (no tags, no aliases); absent → empty."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return ContextsFile(path)
    except OSError as failure:
        raise ConfigError(f"cannot read the contexts file: {failure.strerror}", file=path) from None
    if len(data) > MAX_FILE_BYTES:
        raise ConfigError("the contexts file is larger than 1 MiB", file=path)
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        document = YAML(typ="safe", pure=False).load(data) or {}
    except YAMLError as bad:
        raise ConfigError(f"the contexts file is not valid YAML: {bad}", file=path) from None
    return _contexts(document, path)


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
    temporary = contexts.path.with_suffix(".tmp")
    with open(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as out:
        yaml.dump(document, out)
    temporary.replace(contexts.path)


def with_context(contexts: ContextsFile, context: Context, *, make_current: bool) -> ContextsFile:
    """`contexts` with `context` added or replaced (and made current if asked)."""
    others = tuple(c for c in contexts.contexts if c.name != context.name)
    current = context.name if make_current else contexts.current
    return replace(contexts, contexts=(*others, context), current=current)


Prompt = Callable[[str, bool], str]  # (question, hide input) → answer
KeyringLookup = Callable[[str, str], str | None]


def resolve(
    flags: ClusterFlags,
    *,
    env: Mapping[str, str],
    stdin: IO[str] | None = None,
    prompt: Prompt | None = None,
    keyring: KeyringLookup | None = None,
    need_password: bool = True,
) -> ClusterConfig:
    """The effective configuration; with `need_password`, the password is resolved too."""
    contexts = load_contexts(contexts_path(env))
    url, context = _cluster(flags, env, contexts)
    ctx = contexts.get(context) if context else None
    where = f"context {context}" if context else ""

    def pick(flag: T | None, flag_name: str, env_name: str | None, ctx_value: T | None) -> Any:
        if flag is not None and flag != "":
            return Setting(flag, f"flag {flag_name}")
        if env_name and env.get(env_name):
            return Setting(env[env_name], f"env {env_name}")
        if ctx_value is not None:
            return Setting(ctx_value, where)
        return Setting(None, "not set")

    username = pick(flags.username, "--username", ENV_USERNAME, ctx and ctx.username)
    timeout = pick(flags.timeout, "--timeout", None, ctx and ctx.timeout)
    insecure = Setting(False, "default")
    if flags.insecure:
        insecure = Setting(True, "flag --insecure")
    elif ctx and ctx.insecure:
        insecure = Setting(True, where)
    config = ClusterConfig(
        url=url,
        context=context,
        username=username,
        password=Setting(None, "not set"),
        as_user=pick(flags.as_user, "--as-user", ENV_AS_USER, ctx and ctx.as_user),
        ca_bundle=pick(flags.ca_bundle, "--ca-bundle", ENV_CA_BUNDLE, ctx and ctx.ca_bundle),
        insecure=insecure,
        timeout=timeout if timeout.value is not None else Setting(DEFAULT_TIMEOUT, "default"),
        config_file=contexts.path,
    )
    if config.is_local:
        return config
    password = _password(config, flags, env, stdin, prompt, keyring, need_password)
    if need_password and config.username.value is None:
        if prompt is None:
            raise ConfigError(
                f"no user name for {url.value}",
                hint=f"set {ENV_USERNAME}, --username or the context's username",
            )
        config = replace(config, username=Setting(prompt("Username", False), "prompt"))
        password = _password(config, flags, env, stdin, prompt, keyring, need_password)
    return replace(config, password=password)


def _cluster(
    flags: ClusterFlags, env: Mapping[str, str], contexts: ContextsFile
) -> tuple[Setting[str | None], str | None]:
    """The cluster URL and the context it came from (if any)."""
    for value, origin in ((flags.cluster, "flag --cluster"), (env.get(ENV_CLUSTER), ENV_CLUSTER)):
        if not value:
            continue
        origin = origin if origin.startswith("flag") else f"env {origin}"
        if "://" in value:
            return Setting(value, origin), None
        context = contexts.get(value)
        if context is None:
            known = ", ".join(c.name for c in contexts.contexts) or "none"
            raise ConfigError(
                f"{value!r} is neither a URL nor a context (contexts: {known})",
                hint="give a URL like https://headnode/hpc or add it: hpcspec config set-context",
                file=contexts.path,
            )
        return Setting(context.cluster, f"{origin} (context {value})"), value
    if contexts.current:
        context = contexts.get(contexts.current)
        assert context is not None  # checked when the file was read
        return Setting(context.cluster, f"current context in {contexts.path}"), context.name
    return Setting(None, "none configured"), None


def _password(
    config: ClusterConfig,
    flags: ClusterFlags,
    env: Mapping[str, str],
    stdin: IO[str] | None,
    prompt: Prompt | None,
    keyring: KeyringLookup | None,
    need_password: bool,
) -> Setting[str | None]:
    if flags.password_stdin:
        if not need_password or stdin is None:
            return Setting(None, "--password-stdin (read when used)")
        return Setting(stdin.readline().rstrip("\r\n"), "--password-stdin")
    if env.get(ENV_PASSWORD):
        return Setting(env[ENV_PASSWORD], f"env {ENV_PASSWORD}")
    if not need_password:
        return Setting(None, "keyring or prompt, when used")
    user, url = config.username.value, config.url.value
    if user and url:
        found = (keyring or keyring_password)(f"{KEYRING_SERVICE} {url}", user)
        if found:
            return Setting(found, "keyring")
    if prompt is not None and user:
        return Setting(prompt(f"Password for {user}", True), "prompt")
    if user:
        raise ConfigError(
            f"no password for {user}",
            hint=f"set {ENV_PASSWORD}, pipe it to --password-stdin, or run on a terminal",
        )
    return Setting(None, "not set")


def keyring_password(service: str, username: str) -> str | None:
    """The password stored in the system keyring, if the optional `keyring` is installed."""
    try:
        keyring = importlib.import_module("keyring")  # optional: not a dependency of hpcspec
    except ImportError:
        return None
    try:
        found = keyring.get_password(service, username)
    except Exception as failure:  # a broken keyring backend must not stop a command
        log.debug("keyring lookup failed: %s", type(failure).__name__)
        return None
    return str(found) if found else None
