"""Fuzz: every error a mutated manifest gets carries file:line:col (issue 13 item 8).

A seeded corpus (deterministic, so a failure reproduces) of mutations of the examples and of
a manifest that uses every feature: values replaced by other types and out-of-range numbers,
keys deleted or misspelt, and text cut, duplicated or broken. Every mutant must either
resolve or fail with `InvalidManifest` whose every problem names a line and column, except
the few file-level problems that have no place in the file. Nothing else may escape.
"""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path
from typing import Any

import pytest

from hpcspec.manifest import InvalidManifest, parse_manifest, resolve
from hpcspec.manifest.source import load_yaml
from tests.manifest.test_bad_corpus import PYDANTIC_WORDS

ROOT = Path(__file__).parents[2]
RICH = """\
apiVersion: hpcspec/v1
stack: fuzz
vars: {cases: 3, solver: solve.exe, start: 1}
defaults:
  properties: {Project: cfd, NodeGroups: [ComputeNodes], UnitType: Core, MinCores: 1}
  customProperties: {team: aero}
  env: {A: '1'}
  retries: 1
jobs:
  mesh:
    properties:
      Name: Mesh for ${stack}
      Priority: Normal+5
      MaxCores: 16
      RuntimeSeconds: 2h
      JobValidExitCodes: 0,3..5
      OrderBy: -Memory
      HoldUntil: 2030-01-01T00:00:00Z
    customProperties: {owner: me}
    env:
      OMP_NUM_THREADS: 4
      KEY: {secret: env:CFD_KEY}
    runAs: {userName: 'HPC\\\\svc', password: {secret: 'env:PW'}}
    state: submitted
    onSpecChange: rerun
    tasks:
      prep: {commandLine: prep.exe, workDirectory: 'C:\\\\work'}
      solve:
        commandLine: ${solver} --case *
        sweep: {start: "${start}", end: "${cases}", increment: 1}
        dependsOn: [prep]
        properties: {FailJobOnFailureCount: 2, MinCores: 1, MaxCores: 2}
      post:
        commandLine: post ${matrix.mesh} ${matrix.re}
        matrix: {mesh: [coarse, fine], re: [1e5, 1e6], exclude: [{mesh: fine, re: 1e6}]}
        dependsOn: [solve]
        properties: {IsRerunnable: true, StdOutFilePath: 'post-${matrix.mesh}.log'}
  report:
    dependsOn: [mesh]
    tasks: {render: {commandLine: report.exe}}
"""
SEEDS = [
    ROOT / "examples" / name for name in sorted(p.name for p in (ROOT / "examples").glob("*.yaml"))
]
FILE_LEVEL = {"file-too-large", "not-utf8", "file-not-found", "file-unreadable"}
JUNK: list[Any] = [
    None, True, -1, 0, 10**30, -(10**12), 2**31, 1.5, "", " ", "x" * 200, "${nope}", "$${",
    [], [1, [2]], {}, {"a": {"b": None}}, "Normal+9999", "2h30", "min", "-", "*", "a,b", "🙂",
]  # fmt: skip


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            out += _paths(value, (*prefix, index))
    return out


def _get(node: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        node = node[part]
    return node


def _mutate_data(data: Any, rng: random.Random) -> str:
    data = json.loads(json.dumps(data, default=str))
    for _ in range(rng.randint(1, 3)):
        paths = _paths(data)
        if not paths:
            break
        path = rng.choice(paths)
        parent = _get(data, path[:-1])
        key = path[-1]
        action = rng.random()
        if action < 0.55:
            parent[key] = rng.choice(JUNK)
        elif action < 0.75 and isinstance(parent, dict):
            del parent[key]
        elif isinstance(parent, dict) and isinstance(key, str):
            parent[key[:-1] + "x" if key else "x"] = parent.pop(key)
    return json.dumps(data, indent=2, ensure_ascii=False)  # JSON is YAML, line by line


ODD_CHARACTERS = [
    "\x00",
    "\x01",
    "\x1b",
    "\x7f",
    "\x85",
    "\u2028",
    "\ufeff",
    "\ufffe",
    "%",
    "@",
    "`",
    "|",
    ">",
    "?",
    "\\",
]


def _mutate_text(text: str, rng: random.Random) -> str:
    lines = text.splitlines(keepends=True)
    action = rng.random()
    i = rng.randrange(len(lines))
    if action < 0.2:
        cut = rng.randrange(len(lines[i]) + 1)
        lines[i] = lines[i][:cut] + rng.choice(ODD_CHARACTERS) + lines[i][cut:]
    elif action < 0.35:
        del lines[i]
    elif action < 0.5:
        lines.insert(i, lines[rng.randrange(len(lines))])  # a duplicate key, or misplaced
    elif action < 0.6:
        lines[i] = "\t" + lines[i]
    elif action < 0.75:
        cut = rng.randrange(len(lines[i]) + 1)
        lines[i] = (
            lines[i][:cut]
            + rng.choice(["{", "[", ": ", "&a ", "*a", "!!str ", '"'])
            + lines[i][cut:]
        )
    else:
        cut = rng.randrange(len(lines[i]) + 1)
        lines[i] = lines[i][:cut] + "\n"
    return "".join(lines)


def _corpus() -> list[tuple[str, str]]:
    rng = random.Random(20261129)
    sources = [RICH, *(p.read_text() for p in SEEDS)]
    # Each seed is read once (every pytest-xdist worker builds the corpus while collecting);
    # a data mutant changes a copy.
    trees = [load_yaml(text, file="seed") for text in sources]
    mutants: list[tuple[str, str]] = []
    for n in range(400):
        text = sources[n % len(sources)]
        if n % 2 == 1:
            mutants.append((f"text-{n}", _mutate_text(text, rng)))
        else:
            mutants.append((f"data-{n}", _mutate_data(copy.deepcopy(trees[n % len(trees)]), rng)))
    return mutants


CORPUS = _corpus()


def test_the_corpus_exercises_errors() -> None:
    failing = 0
    for _, text in CORPUS:
        try:
            resolve(parse_manifest(text, file="m.yaml"))
        except InvalidManifest:
            failing += 1
    assert failing >= 250


@pytest.mark.parametrize(("name", "text"), CORPUS, ids=[n for n, _ in CORPUS])
def test_every_error_of_a_mutated_manifest_is_located(name: str, text: str) -> None:
    try:
        resolve(parse_manifest(text, file="m.yaml"))
    except InvalidManifest as invalid:
        for problem in invalid.problems:
            assert not PYDANTIC_WORDS.search(problem.message), (problem.render(), text)
            if problem.code in FILE_LEVEL or "file is empty" in problem.message:
                continue
            where = problem.location
            assert where.line is not None and where.column is not None, (problem.render(), text)
