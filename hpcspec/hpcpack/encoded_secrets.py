"""Whether a server's message still quotes a secret in an encoded form, after redaction.

`errors.redact` replaces every form of a secret a server is likely to quote back (as sent,
XML-, JSON- or URL-escaped: `errors.quoted_forms`). A server may encode it other ways still:
every character as a numeric XML entity (`&#x45;`) or a `%XX`, `\\xXX` escapes, base64. Such
text is decoded here, a few ways and a few times over, and searched for each secret; the
caller then withholds the whole message, as no part of it can be shown with the secret out.
Secrets shorter than `MIN_LENGTH` are not searched for (a one-letter password would be
"found" in any decoded text).
"""

from __future__ import annotations

import base64
import binascii
import html
import re
from collections.abc import Callable, Iterable
from urllib.parse import unquote, unquote_plus

from hpcspec import masking

MIN_LENGTH = masking.MIN_LENGTH  # the same rule as task output's masking
ROUNDS = 3  # decodings applied one over another (XML inside JSON inside a URL…)
MAX_VARIANTS = 256  # decoded texts looked at, at most (an error body's base64-like runs)

_JSON_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})|\\x([0-9a-fA-F]{2})|\\(.)", re.DOTALL)
_BASE64 = re.compile(r"[A-Za-z0-9+/_-]{8,}={0,2}")
_SIMPLE = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f"}


def quotes_a_secret(text: str, secrets: Iterable[str]) -> bool:
    """Whether `text`, decoded (`_decodings`), contains one of `secrets`."""
    wanted = [s for s in secrets if len(s) >= MIN_LENGTH]
    if not wanted:
        return False
    seen = {text}
    layer = {text}
    for _ in range(ROUNDS):
        layer = {decoded for item in layer for decoded in _decodings(item)} - seen
        if not layer:
            break
        seen |= layer
        if len(seen) > MAX_VARIANTS:
            break
    return any(secret in variant for variant in seen for secret in wanted)


def _decodings(text: str) -> Iterable[str]:
    decoders: tuple[Callable[[str], str], ...] = (
        html.unescape,
        unquote,
        unquote_plus,
        _unescape,
    )
    for decode in decoders:
        decoded = decode(text)
        if decoded != text:
            yield decoded
    yield from _base64_runs(text)


def _unescape(text: str) -> str:
    """JSON and C-style escapes: `\\u0045`, `\\x45`, `\\"`, `\\\\`, `\\n`."""

    def one(match: re.Match[str]) -> str:
        if match.group(1):
            return chr(int(match.group(1), 16))
        if match.group(2):
            return chr(int(match.group(2), 16))
        return _SIMPLE.get(match.group(3), match.group(3))

    return _JSON_ESCAPE.sub(one, text)


def _base64_runs(text: str) -> Iterable[str]:
    """Each run of base64 (or base64url) characters, decoded where it decodes."""
    for run in _BASE64.findall(text):
        padded = run + "=" * (-len(run) % 4)
        for decode in (base64.b64decode, base64.urlsafe_b64decode):
            try:
                data = decode(padded)
            except (binascii.Error, ValueError):
                continue
            yield data.decode("utf-8", errors="ignore")
