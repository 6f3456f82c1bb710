"""Shared fixtures. Reference data is read from ../shared when present (never copied here)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from hpcspec import masking
from hpcspec.cli import main
from hpcspec.config import CI_VARIABLES
from hpcspec.emulator import local

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
REFERENCE = SHARED / "reference" / "hpcpack"

# Hypothesis: a property test names how many examples the everyday run draws (`examples(n)`,
# sized for the suite's time budget); HYPOTHESIS_PROFILE=deep draws ten times as many, for tests
# that name a count and for those that take Hypothesis's default alike.
# No per-example deadline: speed is measured in benchmarks/, never by a test, and on a loaded
# 2-core CI runner one slow example would fail a property that holds (DeadlineExceeded).
DEEP = os.environ.get("HYPOTHESIS_PROFILE") == "deep"
settings.register_profile("everyday", deadline=None)
settings.register_profile("deep", max_examples=1000, deadline=None)
settings.load_profile("deep" if DEEP else "everyday")


def examples(everyday: int) -> int:
    """The Hypothesis examples a property test draws: `everyday`, ten times as many when deep."""
    return everyday * 10 if DEEP else everyday


# Fixture plugins contributed by parts of the suite (e.g. the running emulator).
pytest_plugins: list[str] = ["tests.emulator_fixture", "tests.offline_pip"]


# Settings from the developer's or the CI runner's environment that would change which cluster
# (and whose state) a test sees; each test starts without them.
OUTSIDE_SETTINGS = (
    "HPCSPEC_CLUSTER",
    "HPCSPEC_USERNAME",
    "HPCSPEC_PASSWORD",
    "HPCSPEC_AS_USER",
    "HPCSPEC_CA_BUNDLE",
    *CI_VARIABLES,
)


@pytest.fixture(autouse=True)
def isolated_user_state(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Path]:
    """Each test gets its own per-user state dir (so its own local cluster and journals) and
    contexts file, and runs as outside CI: parallel test runs never share a local cluster,
    and the suite behaves the same on a workstation and under CI=true. Subprocesses inherit
    it; a test that builds a subprocess environment from scratch must pass these on. A local
    cluster a test started there (an apply with no cluster configured) is stopped after it."""
    home = tmp_path_factory.mktemp("user")
    for name in OUTSIDE_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HPCSPEC_STATE_DIR", str(home / "state"))
    monkeypatch.setenv("HPCSPEC_CONFIG", str(home / "config.yaml"))
    yield home
    masking.forget_all()  # secret values one in-process command read mask nothing later
    if (home / "state" / "local").is_dir():
        local.down(home / "state" / "local")


@pytest.fixture(scope="session")
def reference() -> Path:
    """`../shared/reference/hpcpack`, or skip when this checkout has no shared folder."""
    if not REFERENCE.is_dir():
        pytest.skip("../shared/reference/hpcpack is not present")
    return REFERENCE


Runner = Callable[..., tuple[int, str, str]]


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]) -> Runner:
    """`hpcspec ARGS…` in-process: (exit code, stdout, stderr)."""

    def run(*argv: str) -> tuple[int, str, str]:
        capsys.readouterr()
        with pytest.raises(SystemExit) as done:
            main(list(argv))
        out, err = capsys.readouterr()
        return int(done.value.code or 0), out, err

    return run


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Modules holding slow tests run first, so with pytest-xdist the long tests start early
    and the run does not end waiting on one of them (modules stay whole: their fixtures are
    set up once per worker)."""
    slow_modules = {item.module for item in items if item.get_closest_marker("slow")}
    order = {id(item): index for index, item in enumerate(items)}
    items.sort(key=lambda item: (item.module not in slow_modules, order[id(item)]))


def pytest_configure(config: pytest.Config) -> None:
    """With pytest-xdist, tests are handed to workers one or two at a time (`--maxschedchunk
    1`) unless the command line says otherwise. By default each worker first gets a block of
    127 consecutive tests; with the slow modules first, one worker's block held most of the
    long tests and ran until 193 s while two others were done at 109 s."""
    if config.pluginmanager.hasplugin("xdist") and config.getoption("maxschedchunk") is None:
        config.option.maxschedchunk = 1


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`pytest -n auto`: two workers per core. Much of the suite waits on subprocesses and the
    emulator's clock, so on 2 cores 4 workers finish in 138 s where 2 take 174 s."""
    return 2 * (os.cpu_count() or 1)
