"""Every reader of a file a user names is bounded by the bytes it reads, not by the size
`stat()` reports (docs/security.md, "Untrusted input"): a device such as /dev/zero reports
size 0 and never ends, a FIFO reports 0 too. Each reader is pointed at /dev/zero in a child
process with a 1.5 GB address-space limit (tests/inputs/bounded_probe.py), so a reader that
is not bounded fails here with MemoryError instead of taking the machine down.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from hpcspec.capped_read import FileTooLarge, read_capped, read_capped_text
from tests.conftest import Runner

ENDLESS = Path("/dev/zero")
pytestmark = pytest.mark.skipif(not ENDLESS.exists(), reason="no /dev/zero on this system")

# What each reader says when the file is too large (all of them say why, and where).
EXPECTED = {
    "manifest": "evil.yaml: error: the file is larger than 20 MB [file-too-large]",
    "var-file": "/dev/zero: error: the file is larger than 20 MB [file-too-large]",
    "saved plan": "cannot read plan file",
    "manifest of a saved plan": "/dev/zero: error: the file is larger than 20 MB",
    "import --xml": "/dev/zero: error: the file is larger than 64 MB",
    "secret file": "secret file:/dev/zero is not a secret: the file is larger than 1 MB",
    "contexts file": "cannot read the contexts file: the file is larger than 1 MB",
    "cluster profile": "cannot read the cluster profile: the file is larger than 256 KiB",
    "plan --out over a file": "refusing to overwrite /dev/zero: it is not a saved hpcspec plan",
    "emulator --faults": "cannot read the faults file /dev/zero: the file is larger than 1 MB",
    "emulator --profile": "--profile /dev/zero: the file is larger than 256 KiB",
    "emulator --users-file": "--users-file /dev/zero: the file is larger than 1 MB",
}


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    work = tmp_path_factory.mktemp("endless")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HPCSPEC_")}
    env.update(
        HPCSPEC_CLUSTER="http://127.0.0.1:9/hpc",  # never reached: every read fails first
        HPCSPEC_CONFIG=str(work / "no-contexts.yaml"),
        HPCSPEC_STATE_DIR=str(work / "state"),
        PYTHONPATH=str(Path(__file__).resolve().parents[2]),
    )
    done = subprocess.run(
        [sys.executable, "-m", "tests.inputs.bounded_probe", str(ENDLESS), str(work)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        cwd=work,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return dict(json.loads(done.stdout.splitlines()[-1]))


@pytest.mark.slow
@pytest.mark.parametrize("reader", sorted(EXPECTED))
def test_an_endless_file_is_refused_after_the_cap_by_every_reader(
    outcomes: dict[str, str], reader: str
) -> None:
    assert EXPECTED[reader] in outcomes[reader], outcomes[reader]


def test_read_capped_reads_at_most_one_byte_past_the_cap() -> None:
    with pytest.raises(FileTooLarge) as refused:
        read_capped(ENDLESS, 4096)
    assert str(refused.value) == "the file is larger than 4 KiB"


def test_read_capped_returns_a_file_of_exactly_the_cap(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"x" * 1024)
    assert read_capped(path, 1024) == b"x" * 1024
    with pytest.raises(FileTooLarge):
        read_capped(path, 1023)


def test_read_capped_text_reads_newlines_as_path_read_text_does(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"a\r\nb\rc\n\xc3\xa9")
    assert read_capped_text(path, 100) == path.read_text(encoding="utf-8") == "a\nb\nc\né"


@pytest.fixture
def fifo(tmp_path: Path) -> Iterator[tuple[Path, threading.Event]]:
    """A FIFO that a thread fills with 25 MB of YAML comments (stat() says 0 bytes)."""
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs on this system")
    path = tmp_path / "pipe.yaml"
    os.mkfifo(path)
    ended = threading.Event()

    def write() -> None:
        try:
            with open(path, "wb") as pipe:
                chunk = b"# " + b"x" * (1024 * 1024 - 3) + b"\n"
                for _ in range(25):
                    pipe.write(chunk)
        except BrokenPipeError:
            pass  # the reader stopped at the cap and closed its end
        finally:
            ended.set()

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    yield path, ended
    writer.join(timeout=30)


def test_a_25_mb_fifo_manifest_is_refused_as_too_large(
    fifo: tuple[Path, threading.Event], run_cli: Runner
) -> None:
    path, ended = fifo
    code, _, err = run_cli("validate", str(path))
    assert code == 1
    assert f"{path}: error: the file is larger than 20 MB [file-too-large]" in err
    assert ended.wait(30)


def test_read_capped_returns_all_of_a_fifo_within_the_cap(tmp_path: Path) -> None:
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs on this system")
    path = tmp_path / "pipe"
    os.mkfifo(path)
    data = bytes(range(256)) * (10 * 1024 + 7)  # 2.5 MB: read in several pieces

    def write() -> None:
        with open(path, "wb") as pipe:
            pipe.write(data)

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    assert read_capped(path, 4 * 1024 * 1024) == data
    writer.join(timeout=30)
