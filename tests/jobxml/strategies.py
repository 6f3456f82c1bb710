"""Hypothesis strategies for JobDefinitions a manifest can produce (canonical values only)."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import strategies as st

from hpcspec.hpcpack.catalogue import JOB_PROPERTIES, TASK_PROPERTIES, Kind, PropertySpec, Value
from hpcspec.hpcpack.definition import JobDefinition, Sweep, TaskDefinition, pairs
from hpcspec.hpcpack.jobxml import IMPORTED_JOB_PROPERTIES, IMPORTED_TASK_PROPERTIES
from hpcspec.manifest.rules import JOB_MIN_MAX, TASK_MIN_MAX

# Text that XML 1.0 and YAML can both carry: no control, surrogate, private or line-separator
# characters. `$`, `{`, `*`, quotes and `<&>` are in, so escaping is exercised.
TEXT_ALPHABET = st.characters(
    codec="utf-8", exclude_categories=("Cc", "Cs", "Cn", "Co", "Zl", "Zp")
)
text = st.text(TEXT_ALPHABET, max_size=30)
# The importer trims Name/Value texts of env variables and custom properties.
trimmed = text.map(str.strip)
names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,11}", fullmatch=True)
keys = st.from_regex(r"[a-z][a-z0-9_.\-]{0,11}", fullmatch=True)
list_item = st.from_regex(r"[A-Za-z0-9_:*]{1,10}", fullmatch=True)


def _raw(spec: PropertySpec) -> st.SearchStrategy[object]:
    if spec.kind is Kind.INT:
        return st.integers(spec.minimum or 0, 100_000)
    if spec.kind is Kind.BOOL:
        return st.booleans()
    if spec.kind is Kind.ENUM:
        return st.sampled_from(spec.enum)
    if spec.kind is Kind.PRIORITY:
        return st.integers(0, 4000)
    if spec.kind is Kind.DURATION:
        return st.integers(0, 10**7)
    if spec.kind is Kind.DATETIME:
        return st.datetimes(
            min_value=datetime(2000, 1, 1), max_value=datetime(2099, 1, 1), timezones=st.just(UTC)
        ).map(lambda d: d.replace(microsecond=0))
    if spec.kind is Kind.EXIT_CODES:
        return st.sampled_from(["0", "0,3", "0,10..20", "min..max", "-1,0"])
    if spec.kind is Kind.STRING_LIST:
        return st.lists(list_item, max_size=3)
    if spec.name == "OrderBy":  # the SDK's node preference form (manifest/rules.py)
        return st.sampled_from(["", "Memory", "-Memory,Core", "Cores,-Memory"])
    return text.filter(lambda t: len(t) <= (spec.maximum or 1024))


def _properties(
    catalogue: dict[str, PropertySpec], allowed: frozenset[str] | None
) -> st.SearchStrategy[tuple[tuple[str, Value], ...]]:
    specs = [s for n, s in catalogue.items() if allowed is None or n in allowed]
    ordered = JOB_MIN_MAX if catalogue is JOB_PROPERTIES else TASK_MIN_MAX
    return (
        st.fixed_dictionaries(
            {}, optional={s.name: _raw(s).map(s.parse) for s in specs if s.name != "Name"}
        )
        .map(lambda props: _min_below_max(props, ordered))
        .map(pairs)
    )


def _min_below_max(
    props: dict[str, Value], ordered: tuple[tuple[str, str], ...]
) -> dict[str, Value]:
    """HPC Pack refuses a minimum above its maximum: order each pair that is set."""
    for low, high in ordered:
        a, b = props.get(low), props.get(high)
        if isinstance(a, int) and isinstance(b, int) and a > b:
            props[low], props[high] = b, a
    return props


@st.composite
def job_definitions(draw: st.DrawFn, *, importable_only: bool = False) -> JobDefinition:
    """A resolved job: Name set, task names unique keys, dependsOn on earlier tasks."""
    job_allowed = IMPORTED_JOB_PROPERTIES if importable_only else None
    task_allowed = IMPORTED_TASK_PROPERTIES if importable_only else None
    props = dict(draw(_properties(JOB_PROPERTIES, job_allowed)))
    props["Name"] = draw(text.filter(lambda t: 0 < len(t) <= 80))
    task_names = draw(st.lists(keys, max_size=4, unique_by=str.lower))
    tasks = []
    for index, name in enumerate(task_names):
        sweep = draw(
            st.none()
            | st.builds(
                lambda s, n, i: Sweep(s, s + n, i),
                st.integers(1, 50),
                st.integers(0, 30),
                st.integers(1, 5),
            )
        )
        task_props = dict(draw(_properties(TASK_PROPERTIES, task_allowed)))
        if sweep is None and "FailJobOnFailureCount" in task_props:
            task_props["FailJobOnFailureCount"] = 1  # above 1 is for sweeps only
        tasks.append(
            TaskDefinition(
                name=name,
                command_line=draw(text.filter(lambda t: t.strip() != "")),
                work_directory=draw(st.none() | text),
                depends_on=tuple(
                    draw(st.lists(st.sampled_from(task_names[:index]), unique=True))
                    if index
                    else []
                ),
                properties=pairs(task_props),
                custom_properties=pairs(draw(st.dictionaries(names, trimmed, max_size=2))),
                env=pairs(draw(st.dictionaries(names, trimmed, max_size=2))),
                sweep=sweep,
            )
        )
    return JobDefinition(
        properties=pairs(props),
        custom_properties=pairs(draw(st.dictionaries(names, trimmed, max_size=3))),
        env=pairs(draw(st.dictionaries(names, trimmed, max_size=3))),
        tasks=tuple(tasks),
    )
