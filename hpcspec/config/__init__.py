"""Which cluster to talk to, as whom, and how: flags, environment, contexts → `ClusterConfig`.

DESIGN.md §6. The cluster is `--cluster` (a URL, a context name, or `local`), else
`HPCSPEC_CLUSTER` (the same three forms), else the current context of the contexts file, else
— only outside CI (`environment.ci_marker`) — the embedded local cluster; in CI with nothing
configured, a command that needs a cluster stops with an error saying how to configure one.
A variable set but empty is an error (`environment.env_setting`), never "not configured".
Every other setting goes flag > environment > context > default, and each resolved `Setting`
remembers where it came from, for `hpcspec config view` and the one line every command prints
about the cluster it talks to. Credentials: `HPCSPEC_USERNAME`, and for the password
`--password-stdin` > `HPCSPEC_PASSWORD` > the optional keyring (if the `keyring` package is
installed) > a prompt on a TTY — never a flag, never the contexts file. Per-user state (the
local cluster, per cluster+stack records) lives under `state.state_dir`; cluster profiles
next to the contexts file (`profiles.py`). Docs:
`docs/configuration.md`.

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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from enum import Enum
from pathlib import Path
from typing import IO, Any, Generic, TypeVar

from hpcspec.cluster_flags import ClusterFlags
from hpcspec.config.contexts import (
    ENV_CONFIG,
    Context,
    ContextsFile,
    contexts_path,
    load_contexts,
    save_contexts,
    with_context,
)
from hpcspec.config.environment import CI_VARIABLES, ConfigError, ci_marker, env_setting
from hpcspec.config.profiles import (
    load_identities,
    load_profile,
    profile_not_saved,
    profile_path,
    same_cluster,
    save_identities,
    save_profile,
)
from hpcspec.config.state import (
    ENV_STATE_DIR,
    LOCAL,
    cluster_key,
    local_cluster_dir,
    stack_state_dir,
    state_dir,
)
from hpcspec.errors import UsageError
from hpcspec.hpcpack import endpoint
from hpcspec.hpcpack.transport_options import Credentials, TransportOptions, check_user_names

__all__ = [
    "CI_VARIABLES",
    "ENV_CONFIG",
    "ENV_STATE_DIR",
    "LOCAL",
    "ClusterChoice",
    "ClusterConfig",
    "ClusterFlags",
    "ConfigError",
    "Context",
    "ContextsFile",
    "Setting",
    "ci_marker",
    "cluster_key",
    "contexts_path",
    "env_setting",
    "load_contexts",
    "load_identities",
    "load_profile",
    "local_cluster_dir",
    "profile_not_saved",
    "resolve",
    "same_cluster",
    "save_contexts",
    "save_identities",
    "save_profile",
    "stack_state_dir",
    "state_dir",
    "with_context",
]

log = logging.getLogger("hpcspec.config")

T = TypeVar("T")

ENV_CLUSTER = "HPCSPEC_CLUSTER"
ENV_USERNAME = "HPCSPEC_USERNAME"
ENV_PASSWORD = "HPCSPEC_PASSWORD"
ENV_AS_USER = "HPCSPEC_AS_USER"
ENV_CA_BUNDLE = "HPCSPEC_CA_BUNDLE"
KEYRING_SERVICE = "hpcspec"  # keyring entry: service "hpcspec <url>", user = the user name
DEFAULT_TIMEOUT = 60.0
MAX_CONNECT_TIMEOUT = 10.0
MASK = "********"


@dataclass(frozen=True)
class Setting(Generic[T]):
    """One effective setting and where it came from (`flag --cluster`, `env …`, `context x`)."""

    value: T
    origin: str


class ClusterChoice(Enum):
    """Which kind of cluster a command talks to."""

    REMOTE = "remote"  # a REST API URL, given or from a context
    LOCAL = "local"  # the embedded local cluster (chosen, or nothing configured outside CI)
    MISSING = "missing"  # nothing configured, in CI: an error for a command that needs one


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
    choice: ClusterChoice = ClusterChoice.REMOTE
    warnings: tuple[str, ...] = ()  # for the user, once, where the cluster line is printed

    @property
    def is_local(self) -> bool:
        """The embedded local cluster is used (chosen, or nothing configured outside CI)."""
        return self.choice is ClusterChoice.LOCAL

    @property
    def state_key(self) -> str:
        """The cluster's name in the per-user state (`stack_state_dir`): `local` or its URL."""
        if self.is_local:
            return LOCAL
        if self.url.value is None:
            raise ConfigError("no cluster is configured")
        return cluster_key(self.url.value)

    @property
    def profile_path(self) -> Path | None:
        """Where this cluster's profile is kept (`profiles.py`); None for the embedded local
        cluster, which is hpcspec's own emulator."""
        if self.is_local:
            return None
        return profile_path(self.config_file.parent, context=self.context, url=self.url.value)

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
        missing = "(none: no cluster configured, and this run is in CI)"
        local = "(embedded local cluster, started on first use)"
        shown = {
            "cluster": self.url.value or (local if self.is_local else missing),
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


MAX_PASSWORD = 4096  # characters of --password-stdin's line; far above any real password
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
    need_cluster: bool = True,
) -> ClusterConfig:
    """The effective configuration; with `need_password`, the password is resolved too.

    With `need_cluster` (every command that talks to a cluster), "nothing configured, in CI"
    is an error saying how to configure one; `config view` shows it instead.
    """
    contexts = load_contexts(contexts_path(env))
    url, context, choice = _cluster(flags, env, contexts)
    if url.value is not None:  # before anything prints it (`config view`, the cluster line)
        endpoint.check_text(url.value, url.origin)
    if choice is ClusterChoice.MISSING and need_cluster:
        raise ConfigError(
            f"no cluster is configured, and this run is in CI ({ci_marker(env)}): hpcspec "
            "never falls back to its embedded local cluster in CI",
            hint="set HPCSPEC_CLUSTER to the REST API URL (https://headnode/hpc) or a context "
            "name, or pass --cluster; to test on the embedded emulator say so: --cluster local",
        )
    ctx = contexts.get(context) if context else None
    where = f"context {context}" if context else ""

    def pick(flag: T | None, flag_name: str, env_name: str | None, ctx_value: T | None) -> Any:
        if flag is not None and flag != "":
            return Setting(flag, f"flag {flag_name}")
        value = env_setting(env, env_name) if env_name else None
        if value is not None:
            return Setting(value, f"env {env_name}")
        if ctx_value is not None:
            return Setting(ctx_value, where)
        return Setting(None, "not set")

    remote = choice is ClusterChoice.REMOTE
    username = (
        pick(flags.username, "--username", ENV_USERNAME, ctx and ctx.username)
        if remote
        else Setting(None, "the local cluster's own" if choice is ClusterChoice.LOCAL else "")
    )
    timeout = pick(flags.timeout, "--request-timeout", None, ctx and ctx.timeout)
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
        choice=choice,
        warnings=tuple(w for w in [contexts.warning()] if w and context is not None),
    )
    if not remote:
        return _sendable(config)
    password = _password(config, flags, env, stdin, prompt, keyring, need_password)
    if need_password and config.username.value is None:
        if prompt is None:
            raise ConfigError(
                f"no user name for {url.value}",
                hint=f"set {ENV_USERNAME}, --username or the context's username",
            )
        config = replace(config, username=Setting(prompt("Username", False), "prompt"))
        password = _password(config, flags, env, stdin, prompt, keyring, need_password)
    return _sendable(replace(config, password=password))


def _sendable(config: ClusterConfig) -> ClusterConfig:
    """`config`, once its user names can go out on a request (else a usage error, before any)."""
    check_user_names(
        config.username.value, config.username.origin, config.as_user.value, config.as_user.origin
    )
    return config


def _cluster(
    flags: ClusterFlags, env: Mapping[str, str], contexts: ContextsFile
) -> tuple[Setting[str | None], str | None, ClusterChoice]:
    """The cluster URL, the context it came from (if any) and which kind of cluster it is."""
    if flags.cluster is not None:
        if not flags.cluster.strip():
            raise ConfigError("--cluster is empty", hint="give a URL, a context name or `local`")
        return _named(flags.cluster.strip(), "flag --cluster", contexts)
    value = env_setting(env, ENV_CLUSTER)
    if value is not None:
        return _named(value.strip(), f"env {ENV_CLUSTER}", contexts)
    if contexts.current:
        context = contexts.get(contexts.current)
        assert context is not None  # checked when the file was read
        origin = f"current context in {contexts.path}"
        return Setting(context.cluster, origin), context.name, ClusterChoice.REMOTE
    marker = ci_marker(env)
    if marker is not None:
        return Setting(None, f"none configured (in CI: {marker})"), None, ClusterChoice.MISSING
    return Setting(None, "no cluster configured, not in CI"), None, ClusterChoice.LOCAL


def _named(
    value: str, origin: str, contexts: ContextsFile
) -> tuple[Setting[str | None], str | None, ClusterChoice]:
    """What `--cluster VALUE` or `HPCSPEC_CLUSTER=VALUE` names: a URL, `local` or a context."""
    if value == LOCAL:
        return Setting(None, f"{origin} {LOCAL}"), None, ClusterChoice.LOCAL
    if "://" in value:
        return Setting(value, origin), None, ClusterChoice.REMOTE
    context = contexts.get(value)
    if context is None:
        known = ", ".join(c.name for c in contexts.contexts) or "none"
        raise ConfigError(
            f"{value!r} is neither a URL, `local`, nor a context (contexts: {known})",
            hint="give a URL like https://headnode/hpc or add it: hpcspec config set-context",
            file=contexts.path,
        )
    return Setting(context.cluster, f"{origin} (context {value})"), value, ClusterChoice.REMOTE


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
        line = stdin.readline(MAX_PASSWORD + 2)  # bounded: stdin may be an endless device
        if len(line.rstrip("\r\n")) > MAX_PASSWORD:
            raise UsageError(
                f"--password-stdin: the first line is over {MAX_PASSWORD} characters", code="usage"
            )
        return Setting(line.rstrip("\r\n"), "--password-stdin")
    from_env = env_setting(env, ENV_PASSWORD)
    if from_env is not None:
        return Setting(from_env, f"env {ENV_PASSWORD}")
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
