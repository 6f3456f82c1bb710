"""Every file hpcspec rewrites whole is written beside, then renamed: never through a link.

Someone who can write in the directory (`plan --out /shared/plan.json`, `HPCSPEC_CONFIG` or
the state directory on a shared disk) plants links at the names a writer would use: the old
fixed temporary name (`<file>.tmp`) and the file itself. The link's target must stay as it
was, and the file must end up a regular file with what was written.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from hpcspec.config.contexts import Context, ContextsFile, save_contexts
from hpcspec.config.profiles import save_identities, save_profile
from hpcspec.emulator.options import write_private
from hpcspec.engine.planfile import save_plan
from hpcspec.hpcpack.profile import ClusterProfile
from hpcspec.whole_write import replace_file
from tests.engine.test_planfile import _plan

VICTIM = "export PATH\n"


def _identities(path: Path) -> None:
    env = {"HPCSPEC_STATE_DIR": str(path.parent.parent.parent)}
    save_identities("https://head/hpc", {"1": ["s", "k"]}, env)


WRITERS: dict[str, tuple[str, Callable[[Path], None]]] = {
    "saved plan": ("plan.json", lambda p: save_plan(_plan(), p, extra={})),
    "contexts file": (
        "config.yaml",
        lambda p: save_contexts(ContextsFile(p, "a", (Context("a", "https://head/hpc"),))),
    ),
    "cluster profile": ("x.json", lambda p: save_profile(p, ClusterProfile())),
    "local credentials": ("credentials.json", lambda p: write_private(p, {"password": "pw"})),
}


@pytest.mark.skipif(not hasattr(os, "symlink") or os.name == "nt", reason="POSIX links")
@pytest.mark.parametrize("what", sorted(WRITERS))
def test_links_planted_at_a_writers_names_are_replaced_never_written_through(
    tmp_path: Path, what: str
) -> None:
    name, write = WRITERS[what]
    folder = tmp_path / "shared"
    folder.mkdir(mode=0o700)
    victim = tmp_path / "bashrc"
    victim.write_text(VICTIM)
    # A link at a saved plan's own name is refused before anything is written (a plan is
    # written only over a saved plan: `check_overwritable`); every other file replaces it.
    at_name = () if what == "saved plan" else (name,)
    for planted in (f"{name}.tmp", f"{Path(name).stem}.tmp", *at_name):
        (folder / planted).unlink(missing_ok=True)
        (folder / planted).symlink_to(victim)
    write(folder / name)
    assert victim.read_text() == VICTIM
    written = folder / name
    assert stat.S_ISREG(os.lstat(written).st_mode) and written.read_bytes()
    private = what != "saved plan"
    assert stat.S_IMODE(os.lstat(written).st_mode) == (0o600 if private else 0o644)


@pytest.mark.skipif(os.name == "nt", reason="POSIX links")
def test_the_identity_cache_is_written_beside_its_name_too(tmp_path: Path) -> None:
    state = tmp_path / "state"
    _identities(state / "clusters" / "x" / "y")  # makes the folder
    folder = next((state / "clusters").iterdir())
    victim = tmp_path / "bashrc"
    victim.write_text(VICTIM)
    (folder / "identities.json.tmp").symlink_to(victim)
    _identities(state / "clusters" / "x" / "y")
    assert victim.read_text() == VICTIM
    assert json.loads((folder / "identities.json").read_text())["jobs"] == {"1": ["s", "k"]}


def test_a_failed_write_leaves_the_old_file_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "config.yaml"
    target.write_text("old\n")

    def full(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full)
    with pytest.raises(OSError, match="No space"):
        replace_file(target, b"new\n")
    assert target.read_text() == "old\n" and [p.name for p in tmp_path.iterdir()] == [target.name]


def test_an_error_names_the_file_asked_for_not_the_temporary(tmp_path: Path) -> None:
    """Red-team finding: `plan --out missing/p.json` said `No such file or directory:
    missing/.p.json.rwx7wmyj.tmp`, a file the user never named."""
    target = tmp_path / "missing" / "plan.json"
    with pytest.raises(FileNotFoundError) as raised:
        replace_file(target, b"{}")
    assert raised.value.filename == str(target) and ".tmp" not in str(raised.value)
    target = tmp_path / "plan.json"
    target.mkdir()  # a directory where the file goes: the rename fails
    with pytest.raises(OSError) as raised:
        replace_file(target, b"{}")
    assert raised.value.filename == str(target) and ".tmp" not in str(raised.value)
    assert [p.name for p in tmp_path.iterdir()] == ["plan.json"]
