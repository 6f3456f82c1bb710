"""`hpcspec completion`: README's install lines work, and each shell's protocol is answered."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from hpcspec.cli import main
from hpcspec.cli.completion import SHELLS
from tests.conftest import Runner

ROOT = Path(__file__).parents[1]
BIN = Path(sys.executable).parent  # where this test run's `hpcspec` lives


def readme_bash_install_lines() -> str:
    section = (ROOT / "README.md").read_text(encoding="utf-8").split("## Shell completion")[1]
    (block,) = re.findall(r"```bash\n(.*?)```", section.split("\n## ")[0], re.S)
    return block


def bash(script: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {"HOME": str(home), "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def complete(words: str, cword: int) -> str:
    """What the installed bash function offers for `words` with the cursor on word `cword`."""
    return (
        "source ~/.local/share/bash-completion/completions/hpcspec\n"
        f"COMP_WORDS=({words}); COMP_CWORD={cword}; _hpcspec_completion hpcspec\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )


@pytest.mark.slow
def test_readme_bash_install_lines_make_tab_offer_apply_for_ap(tmp_path: Path) -> None:
    installed = bash(readme_bash_install_lines(), tmp_path)
    assert installed.returncode == 0, installed.stderr
    assert (tmp_path / ".local/share/bash-completion/completions/hpcspec").is_file()
    offered = bash(complete("hpcspec ap", 1), tmp_path)
    assert offered.returncode == 0, offered.stderr
    assert offered.stdout.split() == ["apply"]
    options = bash(complete("hpcspec plan --detailed", 2), tmp_path)
    assert options.stdout.split() == ["--detailed-exitcode"]


@pytest.mark.parametrize("shell", SHELLS)
def test_each_shell_gets_a_script_that_calls_hpcspec_back(
    shell: str, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    with pytest.raises(SystemExit) as done:
        main(["completion", shell])
    assert done.value.code == 0
    script = capsysbinary.readouterr().out
    assert b"_HPCSPEC_COMPLETE" in script and b"\r\n" not in script


def test_powershell_protocol_answers_type_value_help_lines(
    monkeypatch: pytest.MonkeyPatch, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    monkeypatch.setenv("_HPCSPEC_COMPLETE", "powershell_complete")
    monkeypatch.setenv("COMP_WORDS", "hpcspec ap")
    monkeypatch.setenv("COMP_CWORD", "1")
    with pytest.raises(SystemExit):
        main([])
    kind, value, help_text = capsysbinary.readouterr().out.decode().splitlines()[:3]
    assert (kind, value) == ("plain", "apply") and help_text.startswith("Create, update")


def test_an_unknown_shell_is_a_usage_error_exit_1(run_cli: Runner) -> None:
    code, _, err = run_cli("completion", "tcsh")
    assert code == 1 and "'tcsh' is not one of 'bash', 'zsh', 'fish', 'powershell'" in err
