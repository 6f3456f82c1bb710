"""What the real job XML importer reads: the attribute tables, aliases and the namespace.

Transcribed from `reference/hpcpack/derived/job-xml-import-export.json` (the Store API's
JobPropertyBag / TaskPropertyBag import handlers). Catalogue properties the importer does not
read (Preemptable, Pool, ...) cannot travel in job XML: `not_imported` names them so a caller
can set them with `PUT` after the import, and `render` lists them in a comment.
"""

from __future__ import annotations

from hpcspec.hpcpack.catalogue import JOB_PROPERTIES, TASK_PROPERTIES, Value
from hpcspec.hpcpack.definition import JobDefinition

NAMESPACE = "http://schemas.microsoft.com/HPCS2008R2/scheduler/"
VERSION = "3.000"

# Job attributes the importer reads (default handler plus the special ones), store names.
IMPORTED_JOB_PROPERTIES: frozenset[str] = frozenset(
    (
        "RequestedNodes", "IsExclusive", "Name", "Project", "RuntimeSeconds",
        "RunUntilCanceled", "SoftwareLicense", "UnitType", "FailOnTaskFailure", "NodeGroups",
        "OrderBy", "MinCoresPerNode", "MaxCoresPerNode", "MinMemory", "MaxMemory",
        "AutoCalculateMax", "AutoCalculateMin", "NotifyOnStart", "NotifyOnCompletion",
        "EmailAddress", "HoldUntil", "NodeGroupOp", "SingleNode", "JobValidExitCodes",
        "EstimatedProcessMemory", "TaskExecutionFailureRetryLimit",
        "MinCores", "MinNodes", "MinSockets", "MaxCores", "MaxNodes", "MaxSockets",
        "JobTemplate", "Priority",
    )
)  # fmt: skip

# Task attributes the importer reads that are catalogue properties (the structural ones —
# Name, CommandLine, WorkDirectory, DependsOn, Type, Start/End/IncrementValue, GroupId — are
# handled by name in read.py and write.py).
IMPORTED_TASK_PROPERTIES: frozenset[str] = frozenset(
    (
        "MinCores", "MaxCores", "MinNodes", "MaxNodes", "MinSockets", "MaxSockets",
        "RuntimeSeconds", "IsExclusive", "IsRerunnable", "StdErrFilePath", "StdInFilePath",
        "StdOutFilePath", "RequiredNodes", "TaskValidExitCodes", "FailJobOnFailure",
        "FailJobOnFailureCount", "RequestedNodeGroup",
    )
)  # fmt: skip

TASK_STRUCTURAL = (
    "Name", "CommandLine", "WorkDirectory", "DependsOn", "Type",
    "StartValue", "EndValue", "IncrementValue", "GroupId",
)  # fmt: skip

# Lower-cased attribute → the property it sets (the importer lower-cases attribute names).
JOB_ATTRIBUTES: dict[str, str] = {
    **{JOB_PROPERTIES[n].xml_name.lower(): n for n in IMPORTED_JOB_PROPERTIES},
    "expandedpriority": "Priority",
    "parentjobids": "ParentJobIds",
}
TASK_ATTRIBUTES: dict[str, str] = {
    **{TASK_PROPERTIES[n].xml_name.lower(): n for n in IMPORTED_TASK_PROPERTIES},
    **{n.lower(): n for n in TASK_STRUCTURAL},
    # aliases
    "minimumnumberofprocessors": "MinCores",
    "maximumnumberofprocessors": "MaxCores",
    "depend": "DependsOn",
    "stderr": "StdErrFilePath",
    "stdout": "StdOutFilePath",
    "stdin": "StdInFilePath",
}


def not_imported(definition: JobDefinition) -> dict[str, Value]:
    """Job properties set in `definition` that the job XML importer ignores (PUT them after)."""
    return {n: v for n, v in definition.properties if n not in IMPORTED_JOB_PROPERTIES}


def task_not_imported(properties: tuple[tuple[str, Value], ...]) -> dict[str, Value]:
    """Task properties the importer ignores (UserBlob)."""
    return {n: v for n, v in properties if n not in IMPORTED_TASK_PROPERTIES}
