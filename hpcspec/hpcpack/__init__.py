"""Everything HPC Pack: the vocabulary shared by the client, the engine and the emulator, and
the client that owns the wire.

Vocabulary: states and enums (`states`), the property catalogue and value forms
(`catalogue`, `values`), modify-by-state rules (`modify_rules`), sweep rules (`sweep`), the
one job shape (`definition`), a job as read back (`live`) and job XML (`jobxml`). The wire:
the one codec (`codec`, `timeformat`, `readback`, `listing`), the `transport` and the
`client` package (`HpcPackClient`), with typed `errors`. Knows nothing of manifests, plans
or the CLI.
"""
