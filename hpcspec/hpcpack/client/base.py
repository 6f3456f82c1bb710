"""What every part of the REST client shares: the transport, body codecs, the time format, and
the secrets it has been handed.

`ClientBase` is the base of `HpcPackClient` (the public API is listed in `client/__init__.py`).
It holds the cluster's profile (`hpcpack.profile`): facts a profile does not establish are
detected on first use and reported through `learn` (the node endpoints, the date format here;
whether ClientSource is kept, by `client_source.py`).
Its helpers send one request and decode the documented body shape, turning a shape mismatch
into `BadResponse`. Every secret value a request carries (a run-as password, an env value
from `{secret: …}`, a job XML holding one) is remembered and redacted from the text of EVERY
later error of this client, not only the request's own: a careless server may quote a request
in the answer to another one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import TypeVar

from hpcspec.hpcpack import codec, errors
from hpcspec.hpcpack.catalogue import PropertySpec
from hpcspec.hpcpack.codec import PropertyMap, WireValue
from hpcspec.hpcpack.definition import EnvValue, SecretRef
from hpcspec.hpcpack.jobxml import SecretResolver
from hpcspec.hpcpack.profile import UNKNOWN, ClusterProfile
from hpcspec.hpcpack.timeformat import TimeFormat
from hpcspec.hpcpack.transport import Transport

T = TypeVar("T")


Learned = Callable[[ClusterProfile, str], None]
"""Told of each fact the client detected about a profile-less cluster: the profile with it,
and a sentence saying what was found ("" for a fact not worth a warning); the CLI saves the
one and prints the other."""


class ClientBase:
    """The transport, the cluster's profile (what it really does where clusters differ) and
    its date-time format (from the profile, else read once, when first needed)."""

    def __init__(
        self,
        transport: Transport,
        *,
        time_format: TimeFormat | None = None,
        profile: ClusterProfile | None = None,
        learned: Learned | None = None,
    ) -> None:
        self.transport = transport
        # Without a profile nothing is known: facts are detected on first use (`learn`).
        self.profile = profile if profile is not None else UNKNOWN
        self._learned = learned
        self._learning = threading.Lock()
        if time_format is None and self.profile.knows("datetime_format"):
            time_format = TimeFormat(self.profile.datetime_format)
        self._time_format = time_format
        self._times: dict[str, datetime | None] = {}  # text -> parse_time's answer
        # Replaced, never mutated, so worker threads can read it while another adds to it.
        self._secrets: tuple[str, ...] = ()
        # Job id -> [stack, key] (or [] for a job that is not hpcspec's), where the cluster
        # does not keep ClientSource (`engine/custom_identity.py`); the CLI loads and saves it.
        self.identity_cache: dict[str, list[str]] = {}
        self._closing: list[Callable[[], None]] = []

    def learn(self, note: str, **facts: object) -> None:
        """Record facts detected about the cluster (once each); `note` says what was found."""
        with self._learning:
            if all(self.profile.knows(name) for name in facts):
                return
            self.profile = self.profile.learned(**facts)
            profile = self.profile
        if self._learned is not None:
            self._learned(profile, note)

    def correct(self, note: str, **facts: object) -> None:
        """Replace facts learned before (evidence showed them wrong): saved and told like a
        fact learned for the first time. Never used on a measured profile (`checked_at`)."""
        with self._learning:
            self.profile = self.profile.learned(**facts)
            profile = self.profile
        if self._learned is not None:
            self._learned(profile, note)

    @property
    def user(self) -> str | None:
        """The user hpcspec acts as: x-ms-as-user, else the Basic user (None: anonymous)."""
        options = self.transport.options
        return options.as_user or (options.credentials.username if options.credentials else None)

    def on_close(self, action: Callable[[], None]) -> None:
        """Run `action` when the client is closed (the CLI saves what the client learned)."""
        self._closing.append(action)

    def close(self) -> None:
        try:
            for action in self._closing:
                action()
        finally:
            self.transport.close()

    # -- time -------------------------------------------------------------------------------

    def date_time_format(self) -> str:
        """GET /cluster/info/dateTimeFormat: the .NET format of every time the API writes."""
        return self._call("GET", "/cluster/info/dateTimeFormat", codec.decode_string)

    @property
    def time_format(self) -> TimeFormat:
        """The cluster's time format, compiled (one request the first time, without a profile)."""
        if self._time_format is None:
            text = self.date_time_format()
            self._time_format = TimeFormat(text)
            if self._time_format.problem() is None:  # a profile holding it would not load
                self.learn("", datetime_format=text)  # saved, not worth a warning
        return self._time_format

    def parse_time(self, text: str) -> datetime | None:
        """A time as the cluster writes it → aware UTC datetime (None if empty or unreadable)."""
        if not text or not text.strip():
            return None
        known = self._times.get(text, _UNSEEN)
        if known is not _UNSEEN:  # a listing's rows share their times (created together)
            return known  # type: ignore[return-value]
        try:
            moment = self.time_format.parse(text)
        except ValueError:
            moment = None
        if len(self._times) >= _TIMES_KEPT:
            self._times = {}
        self._times[text] = moment
        return moment

    # -- secrets ----------------------------------------------------------------------------

    def _remember(self, values: Iterable[str]) -> tuple[str, ...]:
        """Keep secret values for redaction from every later error; returns them."""
        new = tuple(v for v in values if v and v not in self._secrets)
        if new:
            self._secrets = self._secrets + new
        return tuple(v for v in values if v)

    def _recording(self, secret: SecretResolver) -> tuple[SecretResolver, list[str]]:
        """A resolver that also remembers each value it gives out."""
        seen: list[str] = []

        def resolve(ref: SecretRef) -> str:
            value = secret(ref)
            seen.append(value)
            self._remember((value,))
            return value

        return resolve, seen

    def _env_values(
        self, values: Mapping[str, EnvValue], secret: SecretResolver | None
    ) -> dict[str, str]:
        """Env values with every `{secret: …}` resolved (and remembered)."""
        if not any(isinstance(v, SecretRef) for v in values.values()):
            return {k: v for k, v in values.items() if isinstance(v, str)}
        if secret is None:
            raise ValueError("a secret environment value needs a resolver")
        resolve, _ = self._recording(secret)
        return {k: resolve(v) if isinstance(v, SecretRef) else v for k, v in values.items()}

    # -- requests ---------------------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        decode: Callable[[object], T],
        *,
        params: Mapping[str, str | None] | None = None,
        body: object = None,
        secrets: tuple[str, ...] = (),
    ) -> T:
        query = {k: v for k, v in (params or {}).items() if v is not None}
        hidden = self._secrets + secrets
        reply = self.transport.request(method, path, params=query, body=body, secrets=hidden)
        try:
            return decode(reply.body)
        except codec.BodyShapeError as bad:
            raise errors.BadResponse(
                f"{method} {path}: {bad}", method=method, path=path, status=reply.status
            ) from None

    def _properties(
        self, path: str, *, properties: list[str] | tuple[str, ...] | None = None
    ) -> PropertyMap:
        params = {"properties": ",".join(properties) if properties else None}
        return self._call("GET", path, codec.decode_properties, params=params)

    def _named(self, path: str, names: list[str] | tuple[str, ...] | None) -> PropertyMap:
        params = {"names": ",".join(names) if names else None}
        return self._call("GET", path, codec.decode_properties, params=params)

    def _send_properties(
        self,
        method: str,
        path: str,
        values: Mapping[str, WireValue],
        catalogue: Mapping[str, PropertySpec] | None,
        *,
        secrets: tuple[str, ...] = (),
    ) -> None:
        body = codec.encode(values, catalogue, self._time_format_if_needed(values))
        passwords = tuple(p["Value"] for p in body if p["Name"].lower() == "password")
        self._call(method, path, _ignore, body=body, secrets=self._remember(passwords) + secrets)

    def _time_format_if_needed(self, values: Mapping[str, WireValue]) -> TimeFormat | None:
        if any(isinstance(v, datetime) for v in values.values()) or any(
            k.lower() == "holduntil" for k in values
        ):
            return self.time_format
        return self._time_format

    def _action(self, path: str, *, message: str | None = None, forced: bool | None = None) -> None:
        """cancel/finish/requeue: optional JSON-string message body, optional `forced`."""
        params = {"forced": None if forced is None else ("true" if forced else "false")}
        self._call("POST", path, _ignore, params=params, body=message or None)


_UNSEEN = object()
_TIMES_KEPT = 4096


def _ignore(body: object) -> None:
    """Decoder for answers whose body means nothing (204, or a 200 with an echo)."""
    return None
