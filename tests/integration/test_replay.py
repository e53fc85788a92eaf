"""``tickwise replay`` on the real embedded stack: deterministic files from the live flow.

Ten minutes of four real symbols (plus hostile messages) are produced once; every replay runs
the CLI as a user does (``python -m dataflows.cli replay``) against that topic.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import orjson
import pandas as pd
import pytest

from dataflows.config import Settings, environment_names
from tests.integration.flowkit import BAD_MESSAGES, create_topics, produce_real_day, topic_settings

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[2]
START = int(pd.Timestamp("2013-10-08 13:30", tz="UTC").value)
END = int(pd.Timestamp("2013-10-08 13:40", tz="UTC").value)
SYMBOLS = ["AIG", "BAC", "IBM", "SPY"]


def cli_env(settings: Settings) -> dict[str, str]:
    aliases = environment_names()
    clean = {name: value for name, value in os.environ.items() if name not in aliases}
    return {**clean, "KAFKA_BOOTSTRAP": settings.kafka.bootstrap, "KAFKA_TICKS_TOPIC": settings.kafka.ticks_topic,
            "TICKWISE_METRICS_PORT": "0", "TICKWISE_MODEL": settings.model.spec}


def tickwise(settings: Settings, state_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dataflows.cli", *args, "--state-dir", str(state_dir)],
                          cwd=REPO_ROOT, env=cli_env(settings), capture_output=True, text=True, timeout=120)


def last_json(result: subprocess.CompletedProcess[str]) -> dict:
    return orjson.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def ticks_topic(stack, market_data: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, int, Path]:
    work = tmp_path_factory.mktemp("replay")
    settings = topic_settings(stack, f"replay{uuid.uuid4().hex[:8]}", f"chdb://{work / 'chdb'}")
    create_topics(settings, partitions=4)
    produced = produce_real_day(settings, market_data, SYMBOLS, START, END, BAD_MESSAGES)
    return settings, produced, work


@pytest.fixture(scope="module")
def full_replays(ticks_topic: tuple[Settings, int, Path]) -> tuple[Path, Path, dict]:
    """The whole topic replayed twice into two directories."""
    settings, _, work = ticks_topic
    manifests = []
    for name in ("first", "second"):
        result = tickwise(settings, work / "state", "replay", "--from-start", "--out", str(work / name))
        assert result.returncode == 0, result.stderr[-3000:]
        manifests.append(last_json(result))
    return work / "first", work / "second", manifests[0]


def test_replay_when_run_twice_then_every_output_file_is_byte_identical(full_replays) -> None:
    first, second, manifest = full_replays

    names = sorted(path.name for path in first.iterdir())
    assert names == sorted(path.name for path in second.iterdir())
    assert {"predictions.jsonl", "signals.jsonl", "decisions.jsonl", "features.jsonl", "rejects.jsonl",
            "manifest.json"} <= set(names)
    for name in names:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    assert manifest["counts"]["predictions"] > 100
    assert manifest["counts"]["signals"] > 0


def test_replay_from_start_accounts_for_every_produced_tick_with_one_model_version(
        full_replays, ticks_topic) -> None:
    first, _, manifest = full_replays
    _, produced, _ = ticks_topic

    assert manifest["ticks"]["read"] == produced
    assert manifest["ticks"]["valid"] + manifest["ticks"]["rejected"] == produced
    assert sum(span["records"] for span in manifest["partitions"].values()) == produced
    for span in manifest["partitions"].values():
        assert (span["from"], span["to"]) == ((0, span["records"]) if span["records"] else (None, None))
    versions = {orjson.loads(line)["model_version"] for line in (first / "predictions.jsonl").read_bytes().splitlines()}
    assert versions == {manifest["model_version"]}
    assert manifest["feature_sets"]


def test_replay_outputs_are_sorted_by_event_time_symbol_and_offset(full_replays) -> None:
    first, _, _ = full_replays

    rows = [orjson.loads(line) for line in (first / "decisions.jsonl").read_bytes().splitlines()]
    keys = [(row["ts_ns"], row["symbol"], row["partition"], row["offset"]) for row in rows]
    assert keys == sorted(keys)
    signals = [orjson.loads(line) for line in (first / "signals.jsonl").read_bytes().splitlines()]
    assert signals == [row for row in rows if row["accepted"]]


def test_replay_compare_when_same_then_exit_0_and_when_changed_then_exit_1_naming_the_line(
        full_replays, ticks_topic, tmp_path: Path) -> None:
    first, second, _ = full_replays
    settings, _, work = ticks_topic

    same = tickwise(settings, work / "state", "replay", "--compare", str(first), str(second))
    assert same.returncode == 0, same.stderr[-2000:]
    assert last_json(same)["same"] is True

    changed = tmp_path / "changed"
    changed.mkdir()
    for path in first.iterdir():
        (changed / path.name).write_bytes(path.read_bytes())
    lines = (changed / "signals.jsonl").read_bytes().splitlines()
    row = orjson.loads(lines[1])
    row["size"] = row["size"] + 1
    lines[1] = orjson.dumps(row)
    (changed / "signals.jsonl").write_bytes(b"\n".join(lines) + b"\n")

    different = tickwise(settings, work / "state", "replay", "--compare", str(first), str(changed))
    assert different.returncode == 1, different.stderr[-2000:]
    report = last_json(different)
    assert report["same"] is False
    assert report["files"]["signals.jsonl"]["first_difference"] == 2
    assert report["files"]["predictions.jsonl"]["first_difference"] is None


def test_replay_of_a_sub_range_covers_exactly_those_offsets(full_replays, ticks_topic) -> None:
    settings, _, work = ticks_topic
    _, _, full = full_replays
    # The two busiest partitions, each cut to an inner range [from, to).
    busiest = sorted(full["partitions"].items(), key=lambda item: -item[1]["records"])[:2]
    ranges = {int(p): (span["records"] // 4, span["records"] // 2) for p, span in busiest}
    spec_from = ",".join(f"{p}:{start}" for p, (start, _) in ranges.items())
    spec_to = ",".join(f"{p}:{end}" for p, (_, end) in ranges.items())

    result = tickwise(settings, work / "state", "replay", "--from-offsets", spec_from, "--to-offsets", spec_to,
                      "--out", str(work / "sub"))

    assert result.returncode == 0, result.stderr[-3000:]
    manifest = last_json(result)
    assert {int(p): (span["from"], span["to"], span["records"]) for p, span in manifest["partitions"].items()} == \
        {p: (start, end, end - start) for p, (start, end) in ranges.items()}
    assert manifest["ticks"]["valid"] + manifest["ticks"]["rejected"] == sum(e - s for s, e in ranges.values())
    for name in ("features", "predictions", "decisions", "rejects"):
        for line in (work / "sub" / f"{name}.jsonl").read_bytes().splitlines():
            row = orjson.loads(line)
            start, end = ranges[row["partition"]]
            assert start <= row["offset"] < end, (name, row["partition"], row["offset"])


def test_replay_when_no_range_given_then_one_sentence_and_exit_2(ticks_topic, tmp_path: Path) -> None:
    settings, _, _ = ticks_topic

    result = tickwise(settings, tmp_path / "state", "replay", "--out", str(tmp_path / "out"))

    assert result.returncode == 2
    assert "exactly one of --from-start or --from-offsets" in result.stderr
    assert "Traceback" not in result.stderr
