"""A manifest's property, custom-property and env maps → canonical values, for the resolver.

Names are matched against the HPC Pack catalogue (case-insensitively, with a did-you-mean),
`${var}`s substituted, values parsed to their canonical form and checked against the rules
that can be known offline (`rules.py`). Each function also reports where each value was
written (`Origins`), so a rule over several values (MinCores > MaxCores, one in `defaults:`)
points at the right line.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

from hpcspec.hpcpack import catalogue
from hpcspec.hpcpack.catalogue import PropertySpec, Value
from hpcspec.hpcpack.definition import EnvValue, SecretRef
from hpcspec.manifest import rules
from hpcspec.manifest.errors import KeyPath, ManifestError, did_you_mean
from hpcspec.manifest.variables import check_carriable, job_text, scalar_text

if TYPE_CHECKING:
    from hpcspec.manifest.models import Secret

Origins = dict[str, KeyPath]  # canonical property name -> the key path it was written at
_T = TypeVar("_T")


def properties(
    raw: Mapping[str, Any],
    known: Mapping[str, PropertySpec],
    reserved: Mapping[str, str],
    variables: Mapping[str, str],
    where: KeyPath,
    what: str,
    origins: Origins | None = None,
) -> dict[str, Value]:
    """Parse `properties:`; `origins` (when given) learns where each one was written."""
    out: dict[str, Value] = {}
    for name, value in raw.items():
        path = (*where, name)
        spec = catalogue.lookup(known, name)
        if spec is None:
            _unknown(name, raw, known, reserved, path, what)
        if isinstance(value, str):
            value = job_text(value, variables, path)
        try:
            parsed = spec.parse(value)
        except ValueError as bad:
            raise ManifestError(
                f"invalid {spec.name}: {bad}",
                path=path,
                code="invalid-value",
                hint=spec.description,
            ) from None
        if spec.name == "OrderBy" and isinstance(parsed, str):
            parsed = rules.check_order_by(parsed, path)
        out[spec.name] = parsed
        if origins is not None:
            origins[spec.name] = path
    return out


def _unknown(
    name: str,
    raw: Mapping[str, Any],
    known: Mapping[str, PropertySpec],
    reserved: Mapping[str, str],
    path: KeyPath,
    what: str,
) -> NoReturn:
    place = next((v for k, v in reserved.items() if k.lower() == name.lower()), None)
    if place is not None:
        if name.lower() == "expandedpriority" and any(k.lower() == "priority" for k in raw):
            place = (
                "Priority and ExpandedPriority are both set; HPC Pack refuses a pair that "
                "disagrees (scheduler error Operation_PriorityAndExPriCannotBeSetTogether). "
                "Write only Priority: a name, 'Normal+5', or 0..4000"
            )
        raise ManifestError(
            f"{name} cannot be set under properties: {place}",
            path=path,
            code="reserved-property",
        )
    guess = did_you_mean(name, known)
    raise ManifestError(
        f"unknown {what} property {name!r}",
        path=path,
        code="unknown-property",
        hint=f"did you mean {guess}?"
        if guess
        else f"{what} properties are HPC Pack names such as {', '.join(list(known)[:4])}",
    )


def custom_properties(
    raw: Mapping[str, object], variables: Mapping[str, str], where: KeyPath
) -> dict[str, str]:
    """Parse `customProperties:` (text, within HPC Pack's name and value lengths)."""
    out: dict[str, str] = {}
    for name, value in raw.items():
        path = (*where, name)
        if name.lower().startswith("hpcspec."):
            raise ManifestError(
                f"custom property {name!r} is reserved for hpcspec's own tags",
                path=path,
                code="reserved-property",
            )
        check_carriable(name, path, "name")
        text = job_text(scalar_text(value), variables, path)
        if (
            len(name) > catalogue.MAX_CUSTOM_PROPERTY_NAME
            or len(text) > catalogue.MAX_CUSTOM_PROPERTY_VALUE
        ):
            raise ManifestError(
                f"custom property {name!r} is too long (name ≤ "
                f"{catalogue.MAX_CUSTOM_PROPERTY_NAME}, value ≤ "
                f"{catalogue.MAX_CUSTOM_PROPERTY_VALUE} characters)",
                path=path,
                code="invalid-value",
            )
        out[name] = text
    return out


def env(
    raw: Mapping[str, object], variables: Mapping[str, str], where: KeyPath
) -> dict[str, EnvValue]:
    """Parse `env:`; secret references stay references."""
    from hpcspec.manifest.models import Secret  # loaded: `raw` comes from a validated manifest

    out: dict[str, EnvValue] = {}
    for name, value in raw.items():
        path = (*where, name)
        check_carriable(name, path, "name")
        if isinstance(value, Secret):
            rules.check_env(name, None, path)
            out[name] = secret(value)
        else:
            text = job_text(scalar_text(value), variables, path)
            rules.check_env(name, text, path)
            out[name] = text
    return out


def secret(reference: Secret) -> SecretRef:
    """`{secret: env:NAME}` → a SecretRef."""
    source, _, name = reference.secret.partition(":")
    return SecretRef("env" if source == "env" else "file", name)


def unset(defaults: Mapping[str, _T], own: Mapping[str, object]) -> dict[str, _T]:
    """The defaults a job does not set itself (names compared case-insensitively)."""
    if not defaults:
        return {}
    mine = {k.lower() for k in own}
    return {k: v for k, v in defaults.items() if k.lower() not in mine}
