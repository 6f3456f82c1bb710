"""The manifest's fixed words, without pydantic: its apiVersion, the form of a key, the states
a job may want and the onSpecChange policies.

`models.py` builds the pydantic models on them; `export.py` (and with it `hpcspec import
--xml`) and `resolve.py` use them without loading pydantic.
"""

from __future__ import annotations

from typing import Literal

API_VERSION = "hpcspec/v1"
KEY_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$"
SECRET_PATTERN = r"^(env|file):.+$"  # where a {secret: …} value comes from

JobStateWanted = Literal["submitted", "configuring", "canceled"]
OnSpecChange = Literal["rerun", "replace", "replace-cancel-first", "extend", "ignore", "error"]
