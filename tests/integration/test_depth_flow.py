"""Order books in the live flow on the real embedded stack: a real capture produced with ``tickwise
produce --file``, run with ``tickwise run --until-eof``, replayed with ``tickwise replay``.

The capture is the first 3,000 lines (44 s) of the shared Binance USD-M file (its REST snapshot is
line 14) with one depth diff near the end dropped, then the whole Hyperliquid file (55 lines of
full-book messages and trades). Depth features must land in ClickHouse and the online store, the
dropped diff must come out as one ``book_gap`` monitor event after which the book is invalid, and a
replay of the same offsets must give the same depth features as the run. Every depth message's
offset is accounted for: ``tickwise verify`` finds it in ``book_messages`` (and would call it lost
without that table), and the replay manifest counts it as valid. Every command runs as a user runs
it, in its own process.
"""

from __future__ import annotations

import gzip
import math
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import orjson
import pytest

from dataflows.depthfiles import read_capture
from operators.book.tracker import DEPTH_FEATURES
from operators.messages import BookDelta, BookSnapshot
from tests.integration.flowkit import chdb_rows, cli_environment, create_topics, topic_settings

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[2]
L2 = REPO_ROOT.parent / "shared" / "data" / "l2"
USDM, HYPERLIQUID = "BINANCE-USDM:BTCUSDT", "HYPERLIQUID:BTC"
SLICE_LINES = 3_000
DROPPED_AFTER_LINE = 2_700  # the first depth diff after this line is left out: a gap


def tickwise(env: dict[str, str], state_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dataflows.cli", *args, "--state-dir", str(state_dir)],
                          cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=180)



def usdm_slice_with_a_gap(path: Path) -> None:
    with gzip.open(L2 / "examples_usdm_btcusdt_20240718.gz", "rb") as lines:
        head = [next(lines) for _ in range(SLICE_LINES)]
    dropped = next(i for i in range(DROPPED_AFTER_LINE, SLICE_LINES) if b'"depthUpdate"' in head[i])
    path.write_bytes(b"".join(head[:dropped] + head[dropped + 1:]))


def depth(names: list[str], values: list[float | None]) -> tuple[object, ...] | None:
    """The depth features of a row, NaN (null in JSON) as None; None for a row without them (a symbol's
    rows before its first depth message)."""
    if DEPTH_FEATURES[0] not in names:
        return None
    start = names.index(DEPTH_FEATURES[0])
    assert tuple(names[start:]) == DEPTH_FEATURES
    return tuple(None if value is None or math.isnan(value) else value for value in values[start:])


@pytest.fixture(scope="module")
def run(stack, tmp_path_factory: pytest.TempPathFactory) -> dict:
    work = tmp_path_factory.mktemp("depth")
    settings = topic_settings(stack, f"depth{uuid.uuid4().hex[:8]}", f"chdb://{work / 'chdb'}")
    create_topics(settings, partitions=2)
    env = cli_environment(settings)
    usdm = work / "usdm_slice.txt"
    usdm_slice_with_a_gap(usdm)
    files = [usdm, L2 / "examples_hyperliquid_btcusd_20250126.gz"]
    produced = tickwise(env, work / "state", "produce", "--file", str(files[0]), "--file", str(files[1]))
    assert produced.returncode == 0, produced.stderr[-3000:]
    ran = tickwise(env, work / "state", "run", "--until-eof")
    assert ran.returncode == 0, ran.stderr[-3000:]
    replayed = tickwise(env, work / "replay-state", "replay", "--from-start", "--out", str(work / "replay"))
    assert replayed.returncode == 0, replayed.stderr[-3000:]
    online = tickwise(env, work / "state", "features", USDM, "--format", "json")
    assert online.returncode == 0, online.stderr[-3000:]
    return {"work": work, "files": files, "env": env, "produce": " ".join((produced.stdout + produced.stderr).split()),
            "online": orjson.loads(online.stdout)}


def verify(run: dict, chdb_dir: Path) -> tuple[int, dict]:
    env = {**run["env"], "CLICKHOUSE_URL": f"chdb://{chdb_dir}"}
    done = tickwise(env, run["work"] / "state", "verify", "--format", "json")
    return done.returncode, orjson.loads(done.stdout.strip().splitlines()[-1])


def test_produce_sends_every_message_of_the_captures(run: dict) -> None:
    # Binance: one message per line; Hyperliquid: one per l2Book line, one per trade of a trades line.
    expected = len(read_capture(run["files"]).items)

    assert expected > SLICE_LINES and f"produced {expected:,} ticks" in run["produce"]


def test_depth_features_land_in_clickhouse_for_both_venues_with_a_depth_feature_set(run: dict) -> None:
    rows = chdb_rows(run["work"] / "chdb", "SELECT symbol, feature_set, names, values FROM features FINAL "
                                           "ORDER BY symbol, ts_ns, offset")
    by_symbol = {symbol: [row for row in rows if row[0] == symbol] for symbol in (USDM, HYPERLIQUID)}

    assert len(by_symbol[USDM]) >= 30 and len(by_symbol[HYPERLIQUID]) >= 10
    # Hyperliquid's first trades message replays 50 s of past trades: rows before its first book have
    # no depth features; from the first book on, every row has them.
    with_depth = [["+l2." in feature_set for _, feature_set, _, _ in rows] for rows in by_symbol.values()]
    assert all(flags == sorted(flags) and flags[-1] for flags in with_depth) and all(with_depth[0])
    for symbol_rows in by_symbol.values():
        features = [depth(names, values) for _, _, names, values in symbol_rows]
        valid = [row for row in features if row is not None and row[-1] == 1.0]
        assert len(valid) >= 10
        assert all(-1.0 <= row[0] <= 1.0 and row[3] > 0 for row in valid)  # imbalance at l1, bid size within 5 bps


def test_dropped_diff_is_one_book_gap_event_and_the_book_stays_invalid_after_it(run: dict) -> None:
    events = chdb_rows(run["work"] / "chdb", "SELECT symbol, kind, feature, ts_ns FROM monitor_events FINAL "
                                             "WHERE kind LIKE 'book_%'")
    [(symbol, kind, feature, gap_ns)] = events
    assert (symbol, kind, feature) == (USDM, "book_gap", "book_valid")
    after = chdb_rows(run["work"] / "chdb", f"SELECT names, values FROM features FINAL WHERE symbol = '{USDM}' "
                                            f"AND ts_ns >= {gap_ns}")
    assert after and all(depth(names, values)[-1] == 0.0 for names, values in after)


def test_online_store_holds_the_latest_depth_features(run: dict) -> None:
    assert set(DEPTH_FEATURES) <= set(run["online"])


def test_replay_of_the_same_offsets_gives_the_same_depth_features_as_the_run(run: dict) -> None:
    stored = {(symbol, partition, offset): depth(names, values) for symbol, partition, offset, names, values in
              chdb_rows(run["work"] / "chdb", "SELECT symbol, partition, offset, names, values FROM features FINAL")}
    replayed = {}
    for line in (run["work"] / "replay" / "features.jsonl").read_bytes().splitlines():
        row = orjson.loads(line)
        replayed[(row["symbol"], row["partition"], row["offset"])] = depth(row["names"], row["values"])

    assert replayed.keys() == stored.keys() and len(stored) >= 40
    assert replayed == stored


def test_verify_after_a_depth_run_accounts_for_every_offset_and_exits_0(run: dict) -> None:
    messages = [item.message for item in read_capture(run["files"]).items]
    in_capture = {kind: sum(type(message) is kind for message in messages) for kind in (BookSnapshot, BookDelta)}

    code, report = verify(run, run["work"] / "chdb")

    assert code == 0 and report["ok"] and report["missing_offsets"] == report["unprocessed_offsets"] == 0
    assert sum(part["offsets"] for part in report["partitions"].values()) == len(messages)
    rows = {table: report["tables"][table]["final_rows"] for table in ("ticks", "book_messages", "rejects")}
    assert sum(rows.values()) == len(messages)
    stored = dict(chdb_rows(run["work"] / "chdb", "SELECT kind, count() FROM book_messages FINAL GROUP BY kind"))
    assert stored["snapshot"] + stored["delta"] == rows["book_messages"]
    # every depth message of the capture is stored, but for those the event-time guard rejected
    assert sum(in_capture.values()) - rows["rejects"] <= rows["book_messages"] <= sum(in_capture.values())
    assert 0 < stored["snapshot"] <= in_capture[BookSnapshot] and 0 < stored["delta"] <= in_capture[BookDelta]


def test_verify_when_depth_offsets_are_missing_from_book_messages_then_calls_them_lost_and_exits_1(
        run: dict, tmp_path: Path) -> None:
    copy = tmp_path / "chdb"
    shutil.copytree(run["work"] / "chdb", copy, symlinks=True)  # chDB links metadata to store/ relatively
    [[books]] = chdb_rows(copy, "SELECT count() FROM book_messages FINAL")
    subprocess.run([sys.executable, "-c", "import sys, clickhouse_connect\n"
                    "clickhouse_connect.get_client(dsn=sys.argv[1]).command('TRUNCATE TABLE book_messages')",
                    f"chdb://{copy}"], check=True, timeout=60)  # what verify saw before depth rows were stored

    code, report = verify(run, copy)

    assert code == 1 and not report["ok"]
    assert report["missing_offsets"] + report["unprocessed_offsets"] == books


def test_replay_manifest_counts_depth_messages_among_the_valid_ticks(run: dict) -> None:
    manifest = orjson.loads((run["work"] / "replay" / "manifest.json").read_bytes())
    [[books]] = chdb_rows(run["work"] / "chdb", "SELECT count() FROM book_messages FINAL")

    ticks = manifest["ticks"]
    assert ticks["read"] == ticks["valid"] + ticks["rejected"] == len(read_capture(run["files"]).items)
    assert ticks["depth_messages"] == books


def test_rows_with_depth_features_are_scored_and_decided_by_the_risk_engine(run: dict) -> None:
    # The model (trained without depth features) scores a book symbol's rows by its own features; each
    # prediction reaches the risk engine, whose decision (a signal when accepted) names its reason.
    scored = dict(chdb_rows(run["work"] / "chdb", "SELECT symbol, count() FROM predictions FINAL GROUP BY symbol"))
    decided = dict(chdb_rows(run["work"] / "chdb", "SELECT symbol, count() FROM risk_decisions FINAL GROUP BY symbol"))
    rows = dict(chdb_rows(run["work"] / "chdb", "SELECT symbol, count() FROM features FINAL GROUP BY symbol"))

    assert scored[USDM] == rows[USDM] > 0 and scored[HYPERLIQUID] == rows[HYPERLIQUID] > 0
    assert decided == scored
