"""The engine: desired + live → plan → steps → executed. The only place that decides.

`plan` holds the plan's types (Action, ReasonCode/Reason, BlockCode/Block, DiffSection/
FieldDiff, Change, Plan, PlanOptions); `identity` the tags and marker that tie a live job to a
manifest job; `discovery` reads the live stack; `diff` and `planner` (and `destroy`) are pure
functions from desired and live state to a Plan; `step_generator` turns a plan into typed
`steps`, which `executor` runs with the `exactly_once` rules and the `journal`; `pipeline`
strings the stages together for plan, apply, reconcile and destroy, telling an observer
(`events`) what happens; `wait` follows the jobs to the end. It speaks to a cluster only
through `protocols` (the hpcpack client satisfies them), never in wire terms.
"""
