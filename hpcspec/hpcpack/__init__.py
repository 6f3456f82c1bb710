"""Everything HPC Pack: the vocabulary shared by the client, the engine and the emulator.

States and enums (`states`), the property catalogue and value forms (`catalogue`, `values`),
modify-by-state rules (`modify_rules`), sweep rules (`sweep`) and the one job shape
(`definition`). Knows nothing of manifests, plans or the CLI.
"""
