"""The HPC Pack property catalogue: every job and task property a manifest may set.

Names, store names (job XML attribute names) and types come from
`reference/hpcpack/derived/property-ids.json`; which of them a client may set comes from the
REST create/PUT/submit lists (jobs) and add/PUT lists (tasks) in
`research/hpcpack-ground-truth.md` §3.1-§3.2. Properties that hpcspec sets itself, or that have
a structural place in the manifest, are listed as `RESERVED_*` with the place to use instead.

Canonical values are Python `int`, `bool` or `str`; `wire()` gives the string the REST API
carries and `parse()` accepts what a user may write.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum

from hpcspec.hpcpack import values

Value = int | bool | str


class Kind(Enum):
    """How a property's value is written and parsed."""

    INT = "int"
    BOOL = "bool"
    STRING = "string"
    STRING_LIST = "list"  # a list or a comma string; canonical comma string
    ENUM = "enum"
    PRIORITY = "priority"  # canonical: expanded priority 0..4000
    DURATION = "duration"  # canonical: seconds
    DATETIME = "datetime"  # canonical: ISO 8601 UTC
    EXIT_CODES = "exit-codes"


@dataclass(frozen=True)
class PropertySpec:
    """One settable HPC Pack property."""

    name: str  # REST name (JobPropertyIds / TaskPropertyIds member)
    kind: Kind
    description: str
    store_name: str | None = None  # job XML attribute, when it differs from name
    enum: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    put: bool = True  # may be sent with PUT (job: also create; task: also add)
    create: bool = True  # may be sent with create/add
    rest_name: str | None = None  # the REST property that carries the canonical value
    # In the REST API's documented lists (job: Create Job / Set Job Properties; task: Add Task /
    # Set Task Properties, msdocs/schedulerwebservice--*.md). False: only job XML carries it.
    rest: bool = True

    @property
    def xml_name(self) -> str:
        return self.store_name or self.name

    @property
    def wire_name(self) -> str:
        """The REST property to send and read (Priority travels as ExpandedPriority)."""
        return self.rest_name or self.name

    def parse(self, raw: object) -> Value:
        """A user's value → the canonical value; ValueError says what was expected."""
        parsed = _PARSERS[self.kind._name_](self, raw)
        if isinstance(parsed, int) and not isinstance(parsed, bool):
            problem = values.int32_problem(parsed)
            if problem:
                raise ValueError(problem)
            if self.minimum is not None and parsed < self.minimum:
                raise ValueError(f"must be at least {self.minimum}, got {parsed}")
            if self.maximum is not None and parsed > self.maximum:
                raise ValueError(f"must be at most {self.maximum}, got {parsed}")
        return parsed

    def wire(self, value: Value) -> str:
        """The canonical value as the REST API carries it (always a string)."""
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    def from_wire(self, text: str) -> Value:
        """A value read back from the server → the canonical value."""
        return self.parse(text)

    def json_schema(self) -> dict[str, object]:
        """The JSON Schema fragment editors use for completion and help."""
        return _SCHEMAS[self.kind](self) | {"description": self.description}


def _parse_enum(spec: PropertySpec, raw: object) -> str:
    if isinstance(raw, bool):
        raise ValueError(f"expected one of {', '.join(spec.enum)}")
    text = str(raw).strip()
    if text.isdigit() and int(text) < len(spec.enum):
        return spec.enum[int(text)]
    for name in spec.enum:
        if name.lower() == text.lower():
            return name
    raise ValueError(f"{raw!r} is not one of {', '.join(spec.enum)}")


def _parse_string(spec: PropertySpec, raw: object) -> str:
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise ValueError("expected a string")
    text = str(raw)
    if spec.maximum is not None and len(text) > spec.maximum:
        raise ValueError(f"is {len(text)} characters long; HPC Pack allows {spec.maximum}")
    return text


def _parse_list(spec: PropertySpec, raw: object) -> str:
    if isinstance(raw, list):
        items = raw
    elif isinstance(raw, str):
        items = raw.split(",")
    else:
        raise ValueError("expected a list of names or a comma-separated string")
    names = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, str | int):
            raise ValueError("expected a list of names or a comma-separated string")
        if str(item).strip():
            names.append(str(item).strip())
    return ",".join(names)


# Keyed by the kind's name: an Enum member hashes in Python, and parse() runs once per value.
_PARSERS: dict[str, Callable[[PropertySpec, object], Value]] = {
    Kind.INT.name: lambda spec, raw: values.parse_int(raw),
    Kind.BOOL.name: lambda spec, raw: values.parse_bool(raw),
    Kind.STRING.name: _parse_string,
    Kind.STRING_LIST.name: _parse_list,
    Kind.ENUM.name: _parse_enum,
    Kind.PRIORITY.name: lambda spec, raw: values.parse_priority(raw),
    Kind.DURATION.name: lambda spec, raw: values.parse_duration(raw),
    Kind.DATETIME.name: lambda spec, raw: values.parse_datetime(raw),
    Kind.EXIT_CODES.name: lambda spec, raw: values.parse_exit_codes(raw),
}

_INT_SCHEMA: dict[str, object] = {"anyOf": [{"type": "integer"}, {"type": "string"}]}

_SCHEMAS: dict[Kind, Callable[[PropertySpec], dict[str, object]]] = {
    Kind.INT: lambda s: {
        "anyOf": [
            {"type": "integer"}
            | {"minimum": s.minimum if s.minimum is not None else values.INT32_MIN}
            | {"maximum": s.maximum if s.maximum is not None else values.INT32_MAX},
            {"type": "string", "pattern": r"^\$\{.+\}$|^-?\d+$"},
        ]
    },
    Kind.BOOL: lambda s: {"anyOf": [{"type": "boolean"}, {"type": "string"}]},
    Kind.STRING: lambda s: {"type": ["string", "number"]},
    Kind.STRING_LIST: lambda s: {
        "anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "string"}]
    },
    Kind.ENUM: lambda s: {"anyOf": [{"enum": list(s.enum)}, {"type": "string"}]},
    Kind.PRIORITY: lambda s: {
        "anyOf": [
            {"type": "integer", "minimum": 0, "maximum": values.MAX_PRIORITY},
            {"type": "string", "examples": [*values.PRIORITY_BUCKETS, "Normal+5"]},
        ]
    },
    Kind.DURATION: lambda s: {
        "anyOf": [
            {"type": "integer", "minimum": 0, "maximum": values.INT32_MAX},
            {"type": "string", "examples": ["90m", "2h"]},
        ]
    },
    Kind.DATETIME: lambda s: {"type": "string", "format": "date-time"},
    Kind.EXIT_CODES: lambda s: {
        "anyOf": [{"type": "string"}, {"type": "integer"}, {"type": "array"}]
    },
}

# The member names of states.UnitType and states.NodeGroupOp (tests/hpcpack/test_catalogue.py
# holds them equal), written out so that `validate` never builds the state enums (issue 17).
_UNIT = ("Core", "Socket", "Node", "Gpu")
_GROUP_OP = ("Intersect", "Uniform", "Union")


def _p(name: str, kind: Kind, description: str, **kw: object) -> PropertySpec:
    return PropertySpec(name, kind, description, **kw)  # type: ignore[arg-type]


def _resources(what: str) -> list[PropertySpec]:
    out = []
    for bound in ("Min", "Max"):
        for unit in ("Cores", "Nodes", "Sockets"):
            word = "least" if bound == "Min" else "most"
            out.append(
                _p(
                    f"{bound}{unit}",
                    Kind.INT,
                    f"The {what} needs at {word} this many {unit.lower()}.",
                    minimum=1,
                )
            )
    return out


JOB_PROPERTIES: dict[str, PropertySpec] = {
    spec.name: spec
    for spec in [
        _p("Name", Kind.STRING, "Display name of the job (defaults to the job key).", maximum=80),
        _p("Project", Kind.STRING, "Project the job is accounted to.", maximum=80),
        _p(
            "Priority",
            Kind.PRIORITY,
            "Lowest, BelowNormal, Normal, AboveNormal, Highest, 'Normal+5', or 0..4000.",
            rest_name="ExpandedPriority",
        ),
        _p(
            "RuntimeSeconds",
            Kind.DURATION,
            "Run-time limit: seconds or a duration such as 90m, 2h, 1d2h (0 = unlimited).",
            minimum=0,
        ),
        *_resources("job"),
        _p(
            "UnitType",
            Kind.ENUM,
            "Resource unit for Min/Max: Core, Socket, Node or Gpu.",
            enum=_UNIT,
        ),
        _p("NodeGroups", Kind.STRING_LIST, "Node groups the job may run on."),
        _p(
            "NodeGroupOp",
            Kind.ENUM,
            "How several node groups combine: Intersect, Uniform, Union.",
            enum=_GROUP_OP,
        ),
        _p("RequestedNodes", Kind.STRING_LIST, "Nodes the job may run on."),
        _p("IsExclusive", Kind.BOOL, "No other job may share the job's nodes."),
        _p("RunUntilCanceled", Kind.BOOL, "Keep resources until the job is cancelled."),
        _p("FailOnTaskFailure", Kind.BOOL, "Fail the whole job as soon as one task fails."),
        _p("AutoCalculateMax", Kind.BOOL, "Let the scheduler compute the maximum resources."),
        _p("AutoCalculateMin", Kind.BOOL, "Let the scheduler compute the minimum resources."),
        _p("Preemptable", Kind.BOOL, "A higher-priority job may preempt this one."),
        _p("MinMemory", Kind.INT, "Each node needs at least this much memory (MB).", minimum=0),
        _p("MaxMemory", Kind.INT, "Each node has at most this much memory (MB).", minimum=0),
        _p("MinCoresPerNode", Kind.INT, "Each node needs at least this many cores.", minimum=0),
        _p("MaxCoresPerNode", Kind.INT, "Each node has at most this many cores.", minimum=0),
        _p("SoftwareLicense", Kind.STRING_LIST, "Licenses the job needs, as app:count."),
        _p("OrderBy", Kind.STRING, "Node preference order, e.g. 'Memory,Cores'."),
        _p("TargetResourceCount", Kind.INT, "Resources to grow to (SOA jobs).", minimum=0),
        _p("ServiceName", Kind.STRING, "SOA service the job runs."),
        _p("NotifyOnStart", Kind.BOOL, "Send e-mail when the job starts."),
        _p("NotifyOnCompletion", Kind.BOOL, "Send e-mail when the job ends."),
        _p("EmailAddress", Kind.STRING, "Where job notifications go."),
        _p(
            "JobTemplate", Kind.STRING, "Job template the job is checked against (default Default)."
        ),
        _p("Pool", Kind.STRING, "Resource pool (HPC Pack 2012 and later)."),
        _p(
            "JobValidExitCodes",
            Kind.EXIT_CODES,
            "Exit codes that count as success for every task, e.g. '0,3,10..20'.",
        ),
        _p("FailDependentTasks", Kind.BOOL, "Fail the tasks that depend on a failed task."),
        _p("SingleNode", Kind.BOOL, "Run all of the job's tasks on one node."),
        _p(
            "HoldUntil", Kind.DATETIME, "Do not start the job before this time (UTC).", create=False
        ),
        _p(
            "EstimatedProcessMemory",
            Kind.INT,
            "Memory one process of the job needs (MB).",
            minimum=0,
        ),
        _p(
            "TaskExecutionFailureRetryLimit",
            Kind.INT,
            "How often a task is retried after an execution failure (job XML only).",
            minimum=0,
            rest=False,  # read by the job XML importer; in neither REST list (issue 15)
        ),
    ]
}

TASK_PROPERTIES: dict[str, PropertySpec] = {
    spec.name: spec
    for spec in [
        *_resources("task"),
        _p(
            "RuntimeSeconds",
            Kind.DURATION,
            "Run-time limit: seconds or a duration such as 90m, 2h (0 = unlimited).",
            minimum=0,
        ),
        _p("RequiredNodes", Kind.STRING, "Nodes the task must run on (comma-separated)."),
        _p(
            "RequestedNodeGroup",
            Kind.STRING,
            "Node group the task runs in (HPC Pack 2016; job XML only).",
            rest=False,  # read by the job XML importer; in neither REST list (issue 15)
        ),
        _p("IsExclusive", Kind.BOOL, "No other task may share the task's nodes."),
        _p("IsRerunnable", Kind.BOOL, "The scheduler may run the task again after a failure."),
        _p("StdOutFilePath", Kind.STRING, "File standard output goes to."),
        _p("StdInFilePath", Kind.STRING, "File standard input comes from."),
        _p("StdErrFilePath", Kind.STRING, "File standard error goes to."),
        _p("FailJobOnFailure", Kind.BOOL, "Fail the job when this task fails."),
        _p(
            "FailJobOnFailureCount",
            Kind.INT,
            "Sweep instances that may fail before the job fails (1 on a Basic task).",
            minimum=1,
            maximum=1_000_000,  # msdocs/ischedulertask-failjobonfailurecount.md
        ),
        _p(
            "TaskValidExitCodes",
            Kind.EXIT_CODES,
            "Exit codes that count as success, e.g. '0,3,10..20' (overrides the job's).",
        ),
        _p("UserBlob", Kind.STRING, "Opaque text kept with the task."),
    ]
}

# Names a user might write under `properties:` that have another place in the manifest.
RESERVED_JOB_PROPERTIES: dict[str, str] = {
    "UserName": "set it with runAs.userName",
    "Password": "set it with runAs.password as a {secret: ...} reference",
    "EncryptedPassword": "set it with runAs.password as a {secret: ...} reference",
    "ClientSource": "hpcspec sets ClientSource itself to recognise its jobs",
    "ParentJobIds": "use the job's dependsOn: with job keys",
    "ChildJobIds": "use dependsOn: on the child job",
    "ExpandedPriority": "use Priority, which takes 0..4000 and forms such as 'Normal+5'",
    "Progress": "Progress is reported by running jobs, not configured",
    "ProgressMessage": "ProgressMessage is reported by running jobs, not configured",
}

RESERVED_TASK_PROPERTIES: dict[str, str] = {
    "Name": "a task's name is its key under tasks:",
    "CommandLine": "use the task's commandLine: key",
    "WorkDirectory": "use the task's workDirectory: key",
    "DependsOn": "use the task's dependsOn: key",
    "StartValue": "use the task's sweep: {start: ...}",
    "EndValue": "use the task's sweep: {end: ...}",
    "IncrementValue": "use the task's sweep: {increment: ...}",
    "Type": "a task with sweep: is a ParametricSweep task; others are Basic",
    "IsParametric": "a task with sweep: is a ParametricSweep task",
}

# HPC Pack's limits that hpcspec checks offline (research/hpcpack-ground-truth.md §3.3, §5).
MAX_SWEEP_TASKS_PER_JOB = 100
# msdocs/ischedulertask-isparametric.md: "The total number of instances that a parametric task
# can generate is 100,000 instances." (The 2016-era Store API's ParametricRecordLimit is
# 1,000,000; hpcspec keeps to the documented limit, which every version accepts.)
MAX_SWEEP_INSTANCES = 100_000
# hpcspec's own bound on the tasks of one job (matrix rows included), checked before a matrix
# is expanded: the order of HPC Pack's sweep limit, and far above any hand-written job.
MAX_TASKS_PER_JOB = 100_000
MAX_NAME_LENGTH = 80
MAX_CUSTOM_PROPERTY_NAME = 80
MAX_CUSTOM_PROPERTY_VALUE = 1024
MAX_COMMAND_LINE = 1024


def lookup(catalogue: Mapping[str, PropertySpec], name: str) -> PropertySpec | None:
    """A property by name, case-insensitively (REST matches names that way)."""
    spec = catalogue.get(name)
    if spec is not None:
        return spec
    lowered = name.lower()
    for known, index in _LOWERED:  # the two catalogues, never changed: indexed once
        if catalogue is known:
            return index.get(lowered)
    return next((s for s in catalogue.values() if s.name.lower() == lowered), None)


_LOWERED = tuple(
    (known, {s.name.lower(): s for s in reversed(known.values())})  # the first one wins
    for known in (JOB_PROPERTIES, TASK_PROPERTIES)
)
