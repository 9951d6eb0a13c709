"""The layers hold at run time too: a connector process loads neither the NLP nor the worker.

``lint-imports`` (``make lint``) checks the import graph; this checks what one import really loads,
in a fresh interpreter, because a package ``__init__`` or a lazy import can pull in more than the
graph shows.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import REPO

HEAVY = ("spacy", "faust", "workers", "pipelines", "review", "civicwatch")


def loaded_after(module: str) -> set[str]:
    code = f"import json, sys; import {module}; print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}})))"
    command = [sys.executable, "-c", code]
    out = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=True, timeout=120)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize(
    "module",
    [
        "connectors.actions",
        "connectors.x",
        "connectors.facebook",
        "connectors.replay",
        "connectors.runner",
        "runtime.sink",
        "runtime.deadletters",
        "runtime.settings",
        "schemas.ids",
        "schemas.topics",
    ],
)
def test_connectors_and_the_base_load_no_nlp_and_no_worker(module: str) -> None:
    assert loaded_after(module).isdisjoint(HEAVY), module


def test_the_check_sees_a_heavy_import() -> None:
    """Near miss: the routing functions do load the pipeline, and the check says so."""
    assert "spacy" in loaded_after("workers.routing")


@pytest.mark.parametrize(
    ("module", "commands"),
    [
        ("workers", ["--agents", "--policy"]),
        ("connectors", ["x", "facebook", "facebook-webhook", "replay", "actions"]),
        ("review", ["add-user", "--rebuild"]),
        ("civicwatch", ["worker", "connect", "review", "topics", "demo"]),
    ],
)
def test_each_process_runs_with_python_m(module: str, commands: list[str]) -> None:
    """What is deployed apart starts apart: ``python -m workers`` needs neither the connectors nor the CLI."""
    out = subprocess.run(
        [sys.executable, "-m", module, "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert out.returncode == 0, out.stderr[-2000:]
    for command in commands:
        assert command in out.stdout, f"python -m {module} --help lacks {command}"
