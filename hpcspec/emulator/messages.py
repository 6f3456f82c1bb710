"""The scheduler's error messages: name, signed HRESULT and text of each one the emulator uses.

Transcribed from `reference/hpcpack/derived/error-codes.json` (`Property/SR.resx` of the HPC
Pack Store API). `errors.py` raises them; `error_bodies.py` renders them as a cluster would.
"""

from __future__ import annotations

from typing import NamedTuple


class SchedulerMessage(NamedTuple):
    """One ErrorCode constant: name, signed int32 code, message template."""

    name: str
    code: int
    template: str


def _m(name: str, hresult: int, template: str) -> SchedulerMessage:
    signed = hresult - (1 << 32) if hresult >= 1 << 31 else hresult
    return SchedulerMessage(name, signed, template)


# per derived/error-codes.json (name, hresult, message), only the ones the emulator uses.
INVALID_JOB_ID = _m(
    "Operation_InvalidJobId",
    0x80040206,
    "The specified Job ID is not valid. Check your Job ID and try again.",
)
INVALID_TASK_ID = _m(
    "Operation_InvalidTaskId",
    0x80040207,
    "The specified task or subtask ID is not valid or the specified subtask has not been "
    "expanded yet. Check your task ID and try again.",
)
INVALID_CANCEL_JOB_STATE = _m(
    "Operation_InvalidCancelJobState", 0x80040208, "Jobs in the {0} state cannot be canceled."
)
INVALID_CANCEL_TASK_STATE = _m(
    "Operation_InvalidCancelTaskState", 0x80040209, "Tasks in the {0} state cannot be canceled."
)
ONLY_CONFIG_JOBS_CAN_BE_SUBMITTED = _m(
    "Operation_OnlyConfigJobsCanBeSubmitted",
    0x80040202,
    "The job could not be submitted because it is not in the configuring state.  To restart a "
    'Canceled or Failed job, use the "job requeue" command.  To create a new job that is based '
    'on a Finished or Running job use the "job clone" command.',
)
PROPERTY_IS_READ_ONLY = _m(
    "Operation_PropertyIsReadOnly", 0x80040203, "Property {0} is read only and cannot be changed."
)
PERMISSION_DENIED = _m("Operation_PermissionDenied", 0x8004020B, "Permission denied.")
AUTHENTICATION_FAILURE = _m(
    "Operation_AuthenticationFailure",
    0x8004020C,
    "Authentication failure: {0} Please check your credentials and try again.",
)
INVALID_NODE_ID = _m(
    "Operation_InvalidNodeId",
    0x8004020E,
    "The specified node name is not valid.  Check your spelling and try again.",
)
INVALID_OPERATION = _m("Operation_InvalidOperation", 0x8004020F, "Invalid operation:{0}")
PROFILE_NOT_FOUND = _m(
    "Operation_ProfileNotFound",
    0x8004021B,
    "A Job template with the specified name could not be found.",
)
TRY_TO_MODIFY_INVALID_STATE_JOB = _m(
    "Operation_TryToModifyInvalidStateJob",
    0x8004021F,
    "Job could not be modified because jobs in the {0} state cannot be modified.",
)
NO_TABLE_DEFINED_FOR_PROPERTY = _m(
    "Operation_NoTableDefinedForProperty",
    0x80040230,
    "Property {0} does not exist on the server. If it is a custom property, please make sure "
    "that it has been previously defined. Otherwise, there might be a feature mismatch due to "
    "different versions of the scheduler client and server.",
)
SET_INVALID_PROP_UNDER_CERTAIN_STATE = _m(
    "Operation_SetInvalidPropUnderCertainState",
    0x80040231,
    "The property {0} cannot be set when the job is in state {1}.",
)
PROPERTY_VALUE_TOO_LARGE = _m(
    "Operation_PropertyValueTooLargeForDatabase",
    0x80040235,
    "The value for '{0}' is too long. The length should not exceed {1} characters.",
)
PRESERVED_ENVIRONMENT_VARIABLES = _m(
    "Operation_PreservedEnvironmentVariables",
    0x80040236,
    "Cannot change reserved environment variable.",
)
UNKNOWN_NODE_GROUP = _m("Operation_UnknownNodeGroup", 0x80040237, 'Invalid node group "{0}."')
INVALID_ENVIRONMENT_VAR_NAME = _m(
    "Operation_InvalidEnvironmentVarName",
    0x8004023D,
    "The provided environment variable name is not valid.",
)
INVALID_FILTER_PROPERTY = _m(
    "Operation_InvalidFilterProperty",
    0x80040243,
    "Cannot filter on property '{0}' for this type of object.",
)
TRY_TO_MODIFY_INVALID_STATE_TASK = _m(
    "Operation_TryToModifyInvalidStateTask",
    0x80040247,
    "Task cannot be modified when it is in {0} state.",
)
ONLY_FAILED_CANCELED_TASKS_CAN_BE_CONFIGURED = _m(
    "Operation_OnlyFailedCancelledTasksCanBeConfigured",
    0x8004024C,
    "The attempt to move the task to the configuring state failed.  Only tasks in the Failed, "
    "Canceled, or Queued states can be configured.",
)
INVALID_PROP_FOR_TASK_TYPE = _m(
    "Operation_InvalidPropForTaskType",
    0x80040254,
    "The property '{0}' may not be set for tasks of type '{1}'",
)
TOO_MANY_SWEEP_TASKS = _m(
    "Operation_TooManyParametricSweepTasksPerJob",
    0x80040256,
    "Too many parametric sweep tasks in the job. A job can contain at most 100 parametric "
    "sweep tasks.",
)
TASK_TYPE_AND_IS_PARAMETRIC_INCOMPATIBLE = _m(
    "Operation_TaskTypeAndIsParametricIncompatible",
    0x80040257,
    "Setting the task Type property to '{0}' is not compatible with the setting the "
    "IsParametric property to '{1}'.",
)
PROPERTY_NAME_CANNOT_BE_EMPTY = _m(
    "Operation_PropertyNameCannotBeEmpty",
    0x800402CE,
    "The custom property's name cannot be empty or NULL.",
)
CANCEL_MESSAGE_TOO_LONG = _m(
    "Operation_CancelMessageIsTooLong",
    0x800402D3,
    "Cancel message should not contain more than 128 characters.",
)
CUSTOM_PROPERTY_NAME_TOO_LONG = _m(
    "Operation_CustomPropertyNameTooLong",
    0x800402DC,
    "The length of the custom property name '{0}' should not exceed {1}.",
)
CUSTOM_PROPERTY_VALUE_TOO_LONG = _m(
    "Operation_CustomPropertyValueTooLong",
    0x800402DD,
    "The length of the custom property value '{0}' should not exceed {1}.",
)
INVALID_EXIT_CODES = _m(
    "Operation_InvalidExitCodes",
    0x800403A8,
    "The value for Valid Exit Codes, '{0}', does not follow the correct format. The value is a "
    'string containing integers or integer ranges separated by commas, for example "-1..10,'
    'min..-100,0,100..max". "min" and "max" can be used to represent minimum and maximum Int32 '
    'integers, but "min" or "max" alone is not supported. ".." is not a valid range, it must be '
    '"min..max" or "max..min".',
)
INVALID_PARENT_JOB_IDS = _m(
    "Operation_InvalidParentJobIds",
    0x800403A9,
    "'{0}' is invalid input for ParentJobIds. The value for ParentJobIds should be a set of one "
    "or more positive integers with a minimum value of one and separated by commas.",
)
TASK_NAME_CONTAINS_INVALID_CHARS = _m(
    "Operation_TaskNameContainInvalidChars",
    0x800403AB,
    "Comma should not be contained in task name: {0}.",
)
JOB_HAS_MISSING_PARENT_JOBS = _m(
    "Validation_JobHasMissingParentJobs",
    0x800405F8,
    "This job depends on the following parent jobs which no longer exist: {0}.",
)
TRY_TO_REQUEUE_NON_RERUNNABLE_TASK = _m(
    "Validation_TryToRequeueNonRerunnableTask",
    0x80040612,
    "The task could not be requeued because it is not marked as rerunnable.",
)
TASK_DEPENDENCIES_CONTAIN_CYCLE = _m(
    "Validation_TaskDependenciesContainCycle",
    0x80040625,
    "A task dependency loop was detected. Check your dependencies to confirm that there are no "
    "cycles, and try again.",
)
INVALID_DEPENDS_ON = _m(
    "Validation_InvalidDependsOn",
    0x80040627,
    "Invalid task dependency: no basic or parametric task named '{0}' could be found in the "
    "job.  A task may only depend on another basic or parametric task.  Please check your "
    "spelling and try again.",
)
TASK_HAS_DEPEND_ON_BUT_NO_NAME = _m(
    "Validation_TaskHasDependOnButNoName",
    0x80040628,
    "Task {0} has a DependOn field, but has no name. Either add a name to the task or remove "
    "its DependOn field.",
)
TASK_FAILED_ON_JOB_VALIDATION = _m(
    "Validation_TaskFailedOnJobValidationFault",
    0x80040620,
    "This task failed because its parent job could not be validated.  Correct the validation "
    "error on the parent job and resubmit the job.",
)
TASK_INVALID_PARAMETRIC_SWEEP = _m(
    "Validation_TaskInvalidParametricSweep",
    0x80040646,
    "The task has invalid parametric sweep settings: The start value {0} is greater than end "
    "value {1}.",
)
TASK_INCREMENT_LESS_THAN_ZERO = _m(
    "Validation_TaskIncrementValueLessThanZero",
    0x80040645,
    "The task has invalid parametric sweep settings: The parametric sweep step increment must "
    "be greater than or equal to 1.",
)
TOO_MANY_PARAMETRIC_INSTANCES = _m(
    "Validation_TooManyParametricInstances",
    0x8004064E,
    "The parametric task has {0} sub-tasks.  The upper limit on the number of sub-tasks is {1}.",
)
PARENT_JOB_CANCELED = _m(
    "Execution_ParentJobCanceled", 0x800409D4, "The job's parent job has been canceled."
)
JOB_RUNTIME_EXPIRED = _m(
    "Execution_JobRuntimeExpired",
    0x800409D5,
    "Canceled by the scheduler because the job's run time expired.",
)
TASK_RUNTIME_EXPIRED = _m(
    "Execution_TaskRuntimeExpired",
    0x800409D7,
    "Canceled by the scheduler because the task's runtime has expired.",
)
TASK_FAILURE = _m(
    "Execution_TaskFailure",
    0x800409DC,
    "Task {0} failed. Please check the failed task for more details on the failure.",
)
TASK_EXECUTION_FAILURE = _m(
    "Execution_TaskExecutionFailure",
    0x800409DD,
    "Task failed during execution with exit code {0}. Please check task's output for error "
    "details.",
)
TASKS_JOB_CANCELED = _m(
    "Execution_TasksJobCanceled",
    0x800409D3,
    "The task's job has been canceled. Please see the Job details for additional information.",
)
FAILED_TO_OPEN_STANDARD_INPUT = _m(
    "Execution_FailedToOpenStandardInput",
    0x800409E1,
    "Unable to open standard input file on node {0}",
)
FAILED_TO_OPEN_STANDARD_OUTPUT = _m(
    "Execution_FailedToOpenStandardOutput",
    0x800409E2,
    "Unable to open standard output file on node {0}",
)
FAILED_TO_OPEN_STANDARD_ERROR = _m(
    "Execution_FailedToOpenStandardError",
    0x800409E3,
    "Unable to open standard error file on node {0}",
)
WORKING_DIRECTORY_NOT_FOUND = _m(
    "Execution_WorkingDirectoryNotFound",
    0x800409E4,
    "Unable to access working directory on node {0}",
)
TASK_CANCELED_DURING_EXECUTION = _m(
    "Execution_TaskCanceledDuringExecution",
    0x800409E7,
    "The task has been canceled by the user during execution. Message: {0}",
)
TASK_FINISHED_DURING_EXECUTION = _m(
    "Execution_TaskFinishedDuringExecution",
    0x800409EC,
    "The task has been finished by the user during execution. Message: {0}",
)
CANCELED_BY_USER = _m("Operation_CanceledByUser", 0x80040201, "Canceled by user. Message:{0}")
UNKNOWN_ERROR = _m("Execution_UnknownError", 0x800409D1, "Unknown error.")

# -- the rules of the strict emulator (docs/emulator.md, "Strict rules") ---------------------
INVALID_ENVIRONMENT_VAR_VALUE = _m(
    "Operation_InvalidEnvironmentVarValue",
    0x8004023E,
    "The provided environment variable value is not valid.",
)
ENVIRONMENT_VAR_NAME_TOO_LONG = _m(
    "Operation_EnvironmentVarNameTooLong",
    0x8004023F,
    "The environment variable name was too long. The size must be smaller than {0} characters.",
)
ENVIRONMENT_VAR_VALUE_TOO_LONG = _m(
    "Operation_EnvironmentVarValueTooLong",
    0x80040240,
    "The environment variable value was too long. The size must be smaller than {0} characters.",
)
TASK_TYPE_ADDED_IN_WRONG_JOB_STATE = _m(
    "Operation_TaskTypeAddedInWrongJobState",
    0x80040252,
    "Tasks of type '{0}' may only be added to the job while it is in the 'Configuring' state.",
)
PRIORITY_AND_EXPANDED_PRIORITY_CONFLICT = _m(
    "Operation_PriorityAndExPriCannotBeSetTogether",
    0x800402C9,
    "Property Priority and ExpandedPriority cannot be set at the same time with incompatible "
    "value.",
)
JOB_INVALID_HOLD_UNTIL = _m(
    "Operation_JobInvalidHoldUntil", 0x800402CB, "The job's HoldUntil time cannot be in the past."
)
JOB_HOLD_UNTIL_TOO_LONG = _m(
    "Operation_JobHoldUntilTooLong", 0x800402D1, "The job cannot be held for more than 1 year."
)
EXPANDED_PRIORITY_OUT_OF_RANGE = _m(
    "Operation_ExpandedPriorityOutOfRange",
    0x800402D9,
    "The value of ExpandedPriority has to be from {0} to {1}.",
)
PRIORITY_NOT_VALID = _m(
    "Operation_PriorityNotValid", 0x800402DA, "The value of Priority is not valid."
)
