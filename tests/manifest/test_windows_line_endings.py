"""A manifest checked out with Windows line endings (git autocrlf) plans the same jobs.

The digest decides "changed or not"; if CRLF changed it, a plan made on a Windows client and
one made in a Linux pipeline would disagree about the same commit (docs/windows.md).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hpcspec.manifest import parse_manifest, resolve

EXAMPLES = sorted((Path(__file__).parents[2] / "examples").glob("*.yaml"))
BLOCK_SCALAR = """\
apiVersion: hpcspec/v1
stack: crlf
jobs:
  a:
    tasks:
      t:
        commandLine: |
          echo one
          echo two
"""


def digests(text: str) -> dict[str, str]:
    return {
        key: job.digest for key, job in resolve(parse_manifest(text, file="m.yaml")).jobs.items()
    }


@pytest.mark.parametrize(
    "text",
    [*(p.read_text() for p in EXAMPLES), BLOCK_SCALAR],
    ids=[*(p.name for p in EXAMPLES), "block-scalar"],
)
def test_crlf_checkout_has_the_same_digests_as_lf(text: str) -> None:
    assert "\r" not in text
    assert digests(text.replace("\n", "\r\n")) == digests(text)
