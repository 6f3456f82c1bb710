"""The fast YAML path reads every YAML 1.2 core-schema scalar exactly as ruamel's safe loader.

`hpcspec.manifest.yamlcore` replaces ruamel's resolver and constructor for speed; these tests
prove the values are the same: same type, same value (NaN included), for every scalar form of
the core schema and ruamel's extensions of it, plain and quoted, as a value and as a key; and
where ruamel refuses a form, hpcspec refuses it too.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError

from hpcspec.manifest.errors import ManifestError
from hpcspec.manifest.source import YamlFloat, load_yaml
from tests.conftest import examples

FORMS = [
    # null
    "", "~", "null", "Null", "NULL", "nULL", "nul", "None",
    # bool (YAML 1.2: only true/false spellings; 1.1 yes/no/on/off are strings)
    "true", "True", "TRUE", "false", "False", "FALSE", "tRUE", "yes", "no", "on", "off", "y", "n",
    # int
    "0", "-0", "+0", "1", "-1", "+1", "007", "0777", "1_000", "_1", "1_", "+_", "-_", "0_",
    "0b101", "-0b101", "0b", "0b2", "0o17", "0o", "0o8", "0x1F", "0xfF", "-0x1f", "0x", "0xg",
    "12345678901234567890123", "1:30", "190:20:30", "0b1_0", "0x_1", "0o_7",
    # float
    "1.0", "-1.5", "+1.5", "1.", ".5", "-.5", "+.5", "1e5", "1E5", "1e+5", "1e-5", "1.5e3",
    "-1.5E-3", ".5e3", ".5e+3", "1_000.5", "1.0_1", ".inf", ".Inf", ".INF", "-.inf", "+.inf",
    ".nan", ".NaN", ".NAN", "-.nan", "inf", "nan", "1e", "e5", "1.2.3", "1e5.5", "190:20:30.15",
    "6.8523015e+5", "685.230_15e+03", "685_230.15",
    # timestamp
    "2001-12-14", "2001-12-14t21:59:43.10-05:00", "2001-12-14 21:59:43.10 -5",
    "2001-12-15T02:59:43.1Z", "2001-12-15 2:59:43.10", "2002-12-14", "2001-1-1", "2001-13-01",
    "2001-12-14T21:59:43", "2001-12-14T21:59:43.1234567", "2001-12-14 21:59:43.10 +05:30",
    # strings that look like something else
    "<<", "=", "-", "--", "- x", "a: b", "hello", "'quoted'", '"double"', "1 2", "0x1F ",
    "true false", "null value", "1.0 m", "+", ".", "..", "#", "a#b", "a # comment",
]  # fmt: skip


def _ruamel(text: str) -> Any:
    try:
        return YAML(typ="safe").load(text)
    except MarkedYAMLError as bad:
        # libyaml refuses ':' inside a flow plain scalar; hpcspec then reads with the pure
        # parser, as YAML 1.2 allows it, so compare with ruamel's pure loader there.
        if "found unexpected ':'" not in str(bad.problem):
            raise
        return YAML(typ="safe", pure=True).load(text)


def _ours(text: str) -> Any:
    return load_yaml(text, file="t.yaml")


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and str(float(a)) == str(float(b)))
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return len(a) == len(b) and all(
            _same(k, j) and _same(a[k], b[j]) for k, j in zip(a, b, strict=True)
        )
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def _agree(text: str) -> None:
    try:
        expected = _ruamel(text)
    except Exception:
        with pytest.raises(ManifestError):
            _ours(text)
        return
    got = _ours(text)
    assert _same(got, expected), (text, got, expected)


def _documents(form: str) -> list[str]:
    return [
        f"v: {form}\n",
        f"- {form}\n",
        f"[{form}]\n",
        f"{{k: {form}}}\n",
        f"{form}: v\n",
        f"v: '{form}'\n",
        f'v: "{form}"\n',
        f"v: !!str {form}\n",
        f"v: !!int {form}\n",
        f"v: !!float {form}\n",
        f"v: !!bool {form}\n",
        f"v: !!null {form}\n",
        f"v: !!timestamp {form}\n",
        f"v: ! {form}\n",
    ]


@pytest.mark.parametrize("form", FORMS)
def test_every_core_scalar_form_reads_as_ruamel_reads_it(form: str) -> None:
    for text in _documents(form):
        _agree(text)


def test_floats_remember_how_they_were_written() -> None:
    data = _ours("a: 1e5\nb: 1.50\nc: .inf\n")
    assert all(isinstance(v, YamlFloat) for v in data.values())
    assert [str(v) for v in data.values()] == ["1e5", "1.50", ".inf"]


def test_collections_and_nesting_read_as_ruamel_reads_them() -> None:
    text = (
        "a: {b: [1, 2.5, {c: null}], d: [[], {}]}\n"
        "e:\n  - x: 1\n    y: [true, ~]\n  - |\n    block\n    text\n  - >\n    folded\n"
        "f: !!map {g: !!seq [1]}\n"
        "1: int key\n2.5: float key\nnull: null key\n"
    )
    assert _same(_ours(text), _ruamel(text))


_SCALAR_CHARS = st.sampled_from(list("0123456789+-._eExXoObB:TtZzn aflsuiNIF~<="))


@settings(max_examples=examples(200), deadline=None)
@given(st.text(_SCALAR_CHARS, min_size=1, max_size=14))
def test_random_number_like_scalars_read_as_ruamel_reads_them(form: str) -> None:
    form = form.strip()
    if not form or form[0] in "-?:" or form.endswith(":") or ": " in form or " #" in form:
        return  # block indicators and comments: structure, not scalars
    _agree(f"v: {form}\n")
    _agree(f"[{form}]\n")
