"""Job XML: HPC Pack's native job file (`job submit /jobfile:`, `POST /jobs/jobFile`, export).

`render(definition)` writes a `JobDefinition` as the job XML the real importer reads;
`parse(data, source=...)` reads job XML back into a `JobDefinition` by the importer's own
rules (`reference/hpcpack/derived/job-xml-import-export.json`, ground truth §2), and
`read_document` gives the importer's view of a file (what it reads, what it ignores).
"""

from hpcspec.hpcpack.jobxml.importing import parse, priority_choice, task_names, to_definition
from hpcspec.hpcpack.jobxml.read import JobDocument, JobXmlError, TaskDocument, read_document
from hpcspec.hpcpack.jobxml.schema import (
    IMPORTED_JOB_PROPERTIES,
    IMPORTED_TASK_PROPERTIES,
    NAMESPACE,
    VERSION,
    not_imported,
    task_not_imported,
)
from hpcspec.hpcpack.jobxml.write import SecretResolver, render, render_notes

__all__ = [
    "IMPORTED_JOB_PROPERTIES",
    "IMPORTED_TASK_PROPERTIES",
    "NAMESPACE",
    "VERSION",
    "JobDocument",
    "JobXmlError",
    "SecretResolver",
    "TaskDocument",
    "not_imported",
    "parse",
    "priority_choice",
    "read_document",
    "render",
    "render_notes",
    "task_names",
    "task_not_imported",
    "to_definition",
]
