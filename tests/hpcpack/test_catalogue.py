"""The property catalogue agrees with HPC Pack's own property table and settable lists."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hpcspec.hpcpack import catalogue
from hpcspec.hpcpack.catalogue import JOB_PROPERTIES, TASK_PROPERTIES, Kind, PropertySpec, lookup

# StorePropertyType → the catalogue kinds that may represent it.
COMPATIBLE = {
    "Int32": {Kind.INT, Kind.DURATION},
    "Boolean": {Kind.BOOL},
    "String": {Kind.STRING, Kind.EXIT_CODES},
    "StringList": {Kind.STRING_LIST},
    "JobUnitType": {Kind.ENUM},
    "JobNodeGroupOp": {Kind.ENUM},
    "JobPriority": {Kind.PRIORITY},
    "JobOrderby": {Kind.STRING},
    "DateTime": {Kind.DATETIME},
}

# Settable lists of research/hpcpack-ground-truth.md §3.1 (jobs) and §3.2 (tasks).
JOB_SETTABLE = set(
    "Name UserName Password Project RuntimeSeconds MinCores MaxCores MinNodes MaxNodes "
    "MinSockets MaxSockets UnitType RequestedNodes IsExclusive RunUntilCanceled NodeGroups "
    "FailOnTaskFailure AutoCalculateMax AutoCalculateMin Preemptable MinMemory MaxMemory "
    "MinCoresPerNode MaxCoresPerNode SoftwareLicense OrderBy ClientSource Progress "
    "ProgressMessage TargetResourceCount ExpandedPriority ServiceName NotifyOnStart "
    "NotifyOnCompletion EmailAddress Priority JobTemplate Pool JobValidExitCodes "
    "ParentJobIds FailDependentTasks NodeGroupOp SingleNode HoldUntil ChildJobIds "
    "EstimatedProcessMemory ".split()
)
TASK_SETTABLE = set(
    "Name MinCores MaxCores MinNodes MaxNodes MinSockets MaxSockets RuntimeSeconds "
    "CommandLine WorkDirectory RequiredNodes DependsOn IsExclusive IsRerunnable "
    "StdOutFilePath StdInFilePath StdErrFilePath StartValue EndValue IncrementValue UserBlob "
    "Type FailJobOnFailure FailJobOnFailureCount TaskValidExitCodes ".split()
)
# Readable on 2016+ and read by the job XML importer (derived/job-xml-import-export.json).
EXTRA_JOB = {"TaskExecutionFailureRetryLimit"}
EXTRA_TASK = {"RequestedNodeGroup"}


@pytest.fixture(scope="module")
def property_ids(reference: Path) -> dict[str, list[dict[str, object]]]:
    data = json.loads((reference / "derived" / "property-ids.json").read_text())
    return {k: v for k, v in data.items() if isinstance(v, list)}


@pytest.mark.parametrize(
    ("table", "specs"),
    [("JobPropertyIds", catalogue.JOB_PROPERTIES), ("TaskPropertyIds", catalogue.TASK_PROPERTIES)],
)
def test_catalogue_matches_property_ids_json(
    property_ids: dict[str, list[dict[str, object]]],
    table: str,
    specs: dict[str, catalogue.PropertySpec],
) -> None:
    known = {str(row["name"]): row for row in property_ids[table]}
    for name, spec in specs.items():
        assert name in known, f"{name} is not a {table} member"
        row = known[name]
        assert spec.xml_name == row["storeName"], name
        assert spec.kind in COMPATIBLE[str(row["type"])], (name, row["type"], spec.kind)
        assert "ReadOnly" not in str(row["flags"]), name


def test_every_settable_job_property_has_a_place() -> None:
    placed = set(catalogue.JOB_PROPERTIES) | set(catalogue.RESERVED_JOB_PROPERTIES)
    assert placed >= JOB_SETTABLE
    assert set(catalogue.JOB_PROPERTIES) - JOB_SETTABLE == EXTRA_JOB


def test_every_settable_task_property_has_a_place() -> None:
    placed = set(catalogue.TASK_PROPERTIES) | set(catalogue.RESERVED_TASK_PROPERTIES)
    assert placed >= TASK_SETTABLE
    assert set(catalogue.TASK_PROPERTIES) - TASK_SETTABLE == EXTRA_TASK


def test_enums_take_names_any_case_and_numbers() -> None:
    unit = catalogue.JOB_PROPERTIES["UnitType"]
    assert unit.parse("node") == "Node"
    assert unit.parse(2) == "Node"
    assert unit.parse("2") == "Node"
    with pytest.raises(ValueError):
        unit.parse("Cores")


def test_lists_become_comma_strings() -> None:
    groups = catalogue.JOB_PROPERTIES["NodeGroups"]
    assert groups.parse(["ComputeNodes", " GPU "]) == "ComputeNodes,GPU"
    assert groups.parse("A, B") == "A,B"
    assert groups.wire("A,B") == "A,B"


def test_resource_counts_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        catalogue.JOB_PROPERTIES["MinCores"].parse(-4)


def test_wire_form_parses_back() -> None:
    for spec, value in [
        (catalogue.JOB_PROPERTIES["IsExclusive"], True),
        (catalogue.JOB_PROPERTIES["Priority"], 2005),
        (catalogue.JOB_PROPERTIES["RuntimeSeconds"], 7200),
    ]:
        assert spec.from_wire(spec.wire(value)) == value
    assert catalogue.JOB_PROPERTIES["IsExclusive"].from_wire("True") is True


def test_lookup_is_case_insensitive() -> None:
    spec = catalogue.lookup(catalogue.JOB_PROPERTIES, "mincores")
    assert spec is not None and spec.name == "MinCores"
    assert catalogue.lookup(catalogue.JOB_PROPERTIES, "Nope") is None


def test_enum_properties_offer_exactly_the_state_enums_member_names() -> None:
    # catalogue.py writes the names out so `validate` never builds the state enums (issue 17).
    from hpcspec.hpcpack.states import NodeGroupOp, UnitType

    assert catalogue.JOB_PROPERTIES["UnitType"].enum == tuple(m.name for m in UnitType)
    assert catalogue.JOB_PROPERTIES["NodeGroupOp"].enum == tuple(m.name for m in NodeGroupOp)


@pytest.mark.parametrize("catalogue", [JOB_PROPERTIES, TASK_PROPERTIES])
def test_lookup_finds_a_property_in_any_case_and_nothing_else(
    catalogue: dict[str, PropertySpec],
) -> None:
    # the two catalogues are indexed once; any other mapping is scanned as before
    for spec in catalogue.values():
        for asked in (spec.name, spec.name.lower(), spec.name.upper()):
            assert lookup(catalogue, asked) is spec
            assert lookup(dict(catalogue), asked) is spec
    for unknown in ("ClientSource", "", "nosuch"):
        assert lookup(catalogue, unknown) is None and lookup(dict(catalogue), unknown) is None
