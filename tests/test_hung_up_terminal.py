"""A stopping signal whose terminal has gone away (SIGHUP: the ssh session dropped) ends with
the signal's exit code, not a traceback: writing the message fails with EIO, and that failure
is the terminal's, not a second error (found in review; hpcspec/cli/__init__.py)."""

from __future__ import annotations

import errno
import io
import signal
import sys

import pytest

from hpcspec.cli import Terminated, main


class HungUp(io.StringIO):
    """A terminal that has hung up: every write fails with EIO."""

    def write(self, text: str) -> int:
        raise OSError(errno.EIO, "Input/output error")

    def flush(self) -> None:
        raise OSError(errno.EIO, "Input/output error")


@pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="POSIX signals")
def test_a_hangup_on_a_terminal_that_is_gone_exits_129(monkeypatch: pytest.MonkeyPatch) -> None:
    import hpcspec.cli.validate as command

    def stopped(*args: object, **kwargs: object) -> None:
        raise Terminated(int(signal.SIGHUP))

    monkeypatch.setattr(command.validate, "callback", stopped)
    monkeypatch.setattr(sys, "stderr", HungUp())
    monkeypatch.setattr(sys, "stdout", HungUp())
    with pytest.raises(SystemExit) as done:
        main(["validate", "m.yaml"])
    assert done.value.code == 129
