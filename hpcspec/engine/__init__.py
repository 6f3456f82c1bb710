"""The engine: identity, discovery, planning and applying.

`plan` holds the plan's types only (Action, Reason, Block, FieldDiff, Change, Plan);
`identity` the tags and marker that tie a live job to a manifest job; `diff` and `planner`
are pure functions from desired and live state to a Plan.
"""
