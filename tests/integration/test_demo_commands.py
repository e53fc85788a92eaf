"""After ``tickwise demo`` (what ``make demo`` runs), the commands it prints work exactly as printed,
from the same directory and without ``--state-dir``: one state dir (``.tickwise``) for every
command, the embedded stack found from it. Once the stack is down, a command that needs it says
so in one sentence (exit code 2) instead of creating an empty database or printing a traceback.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from dataflows.config import environment_names

TICKWISE = [sys.executable, "-m", "dataflows.cli"]


def tickwise(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The CLI run from ``cwd`` with none of the settings' variables set but the model the tests use."""
    env = {name: value for name, value in os.environ.items() if name not in environment_names()}
    env["TICKWISE_MODEL"] = os.environ["TICKWISE_MODEL"]
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    return subprocess.run([*TICKWISE, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def printed_commands(stderr: str) -> list[list[str]]:
    """The commands the demo prints under "Query the results:", as argument lists without the program."""
    lines = stderr[stderr.index("Query the results:"):].splitlines()[1:]
    commands = [shlex.split(line.split("  #")[0]) for line in lines if line.startswith("  ")]
    return [command[1:] for command in commands if command]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    cwd = tmp_path_factory.mktemp("newcomer")
    result = tickwise(cwd, "demo")
    yield cwd, result
    tickwise(cwd, "stack", "down")


def test_demo_when_run_then_its_printed_commands_work_as_printed(demo) -> None:
    cwd, result = demo
    assert result.returncode == 0, result.stderr[-3000:]
    summary = orjson.loads(result.stdout.strip().splitlines()[-1])
    query, features, stack_down = printed_commands(result.stderr)
    assert query[0] == "query" and features[:2] == ["features", "IBM"] and stack_down == ["stack", "down"]
    assert "--state-dir" not in query + features + stack_down

    answered = tickwise(cwd, *query)
    counted = tickwise(cwd, "query", "SELECT count() AS n FROM predictions FINAL", "--format", "json")
    stored = tickwise(cwd, "features", "IBM", "--format", "json")

    assert answered.returncode == 0 and "reason" in answered.stdout, answered.stderr
    assert orjson.loads(counted.stdout) == [{"n": summary["predictions"]}]
    vector = orjson.loads(stored.stdout)
    assert vector["symbol"] == "IBM" and vector["time"].startswith("2013-10-09T")
    assert list(vector)[7:] == sorted(list(vector)[7:])  # features in name order after the row's fields


def readme_commands() -> list[list[str]]:
    """The commands of the README's block after the demo ("Afterwards the stack keeps running"), without the program."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    block = readme[readme.index("Afterwards the stack keeps running"):]
    block = block[block.index("```sh") + 5:block.index("```", block.index("```sh") + 5)]
    lines = [shlex.split(line.split("  #")[0]) for line in block.strip().splitlines()]
    assert all(line[0] == ".venv/bin/tickwise" for line in lines), lines
    return [line[1:] for line in lines]


def test_the_readme_commands_after_the_demo_work_as_printed_in_order(demo) -> None:
    cwd, result = demo
    assert result.returncode == 0, result.stderr[-3000:]
    commands = readme_commands()
    assert commands[-1] == ["stack", "down"] and len(commands) >= 3
    for command in commands:
        answered = tickwise(cwd, *command)
        assert answered.returncode == 0, (command, answered.stderr[-2000:])
        assert (answered.stdout + answered.stderr).strip() and "Traceback" not in answered.stderr, command


def test_features_when_demo_stack_stopped_then_one_sentence_exit_2(demo) -> None:
    cwd, _ = demo
    assert tickwise(cwd, "stack", "down").returncode == 0

    result = tickwise(cwd, "features", "IBM")
    offline = tickwise(cwd, "query", "SELECT count() AS n FROM ticks", "--format", "csv")

    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.startswith("error: no Redis to use") and len(result.stderr.strip().splitlines()) == 1
    assert offline.returncode == 0 and offline.stdout.splitlines()[0] == "n"  # chDB on disk, read in-process
