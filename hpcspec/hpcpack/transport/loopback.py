"""The transport's guard for plain http: Basic credentials reach loopback peers only.

`endpoint.route` decides, before anything is sent, that a plain-http URL names this machine;
this adapter checks the peer of every connection again, so a name that resolves elsewhere by
the time a request is sent is refused without the credentials (DESIGN.md §6).
"""

from __future__ import annotations

import socket
from typing import Any

import requests
import urllib3
from requests.adapters import HTTPAdapter

from hpcspec.hpcpack.endpoint import is_loopback_address


class _LoopbackOnlyConnection(urllib3.connection.HTTPConnection):
    """An http connection that is closed unless its peer is a loopback address."""

    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        try:
            peer = str(sock.getpeername()[0])
        except OSError as failure:
            sock.close()
            raise urllib3.exceptions.NewConnectionError(self, f"no peer: {failure}") from None
        if not is_loopback_address(peer):
            sock.close()
            raise urllib3.exceptions.NewConnectionError(
                self,
                f"{self.host} now resolves to {peer}, not a loopback address; the Basic auth "
                "credentials were not sent",
            )
        return sock


class _LoopbackOnlyPool(urllib3.HTTPConnectionPool):
    ConnectionCls = _LoopbackOnlyConnection


class LoopbackOnlyAdapter(HTTPAdapter):
    """Mounted for `http://` when credentials go over plain http: loopback peers only."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            **self.poolmanager.pool_classes_by_scheme,
            "http": _LoopbackOnlyPool,
        }


def guard_session(session: requests.Session) -> None:
    """Make every plain-http connection of `session` refuse a peer that is not loopback."""
    session.mount("http://", LoopbackOnlyAdapter())
