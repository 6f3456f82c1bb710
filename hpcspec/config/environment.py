"""Reading hpcspec's environment: one rule for a variable set but empty, one test for "in CI".

`env_setting(env, name)` is the only way configuration reads an `HPCSPEC_*` variable: unset
is None, set but empty (`HPCSPEC_CLUSTER=`, a CI secret that did not expand) is a
`ConfigError`, never "not configured" (DESIGN.md §6). `ci_marker(env)` says whether the run is
in CI, and which variable says so: the embedded local cluster is never chosen implicitly there.
Docs: `docs/configuration.md`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from hpcspec.errors import HpcspecError, Location


class ConfigError(HpcspecError):
    """The configuration is wrong or incomplete."""

    def __init__(self, message: str, *, hint: str | None = None, file: Path | None = None) -> None:
        location = Location(str(file)) if file else Location()
        super().__init__(message=message, code="config-error", hint=hint, location=location)


# Variables CI systems set (and the automation flags Terraform users know). A variable counts
# when it is set to anything but "", "0", "false" or "no": `CI=false` is the usual way to say
# "treat this as a workstation".
CI_VARIABLES = (
    "CI",  # GitHub Actions, GitLab, CircleCI, Travis, Buildkite, AppVeyor, Bitbucket, Drone…
    "GITHUB_ACTIONS",
    "TF_BUILD",  # Azure Pipelines
    "GITLAB_CI",
    "JENKINS_URL",
    "BUILDKITE",
    "CIRCLECI",
    "TRAVIS",
    "APPVEYOR",
    "TEAMCITY_VERSION",
    "BITBUCKET_BUILD_NUMBER",
    "CODEBUILD_BUILD_ID",  # AWS CodeBuild
    "DRONE",
    "TF_IN_AUTOMATION",
    "HPCSPEC_IN_AUTOMATION",
)
_FALSE = frozenset({"", "0", "false", "no"})

_HINTS = {
    "HPCSPEC_CLUSTER": "set it to a REST API URL (https://headnode/hpc), a context name or "
    "`local`, or unset it to use the current context",
}


def env_setting(env: Mapping[str, str], name: str) -> str | None:
    """The variable's value; None when unset; a ConfigError when it is set but empty."""
    value = env.get(name)
    if value is None:
        return None
    if not value.strip():
        raise ConfigError(
            f"{name} is set but empty",
            hint=_HINTS.get(name, f"give {name} a value, or unset it")
            + " (in CI, an empty value usually means a secret or variable that is not defined)",
        )
    return value


def ci_marker(env: Mapping[str, str]) -> str | None:
    """`NAME=value` of the first variable saying this run is in CI, or None outside CI."""
    for name in CI_VARIABLES:
        value = env.get(name)
        if value is not None and value.strip().lower() not in _FALSE:
            return f"{name}={value.strip()}"
    return None
