"""Options chains in the live flow on the real embedded stack: a real GOOG day (2015-12-24, LEAN
minute files) produced with ``tickwise produce --options-day`` and run with ``tickwise run --until-eof``.

The day is cut at 09:45 New York: the first slice (pre-market to 09:45) is produced and run, then the
next 15 minutes are produced and the same command resumes from its recovery snapshot. The history
half's ``option_chains`` step must price each minute: ``option_analytics`` rows with implied
volatilities, ``vol_surface`` rows with SVI fits, ``option_features`` rows (GOOG's option features),
and leave the last minute's option features in the online store beside GOOG's own (``tickwise
features GOOG``). A run of the whole slice from the start in a state dir of its own must store the
same rows (the restart restored the chains exactly), and GOOG's own feature rows must be those of
its quotes and trades only. Every command runs in its own process.
"""

from __future__ import annotations

import datetime as dt
import math
import subprocess
import sys
import uuid
from pathlib import Path

import orjson
import pytest

from dataflows.cli.output import clean, iso_time
from dataflows.optionfiles import encode_option_day, midnight_ns, read_option_day
from dataflows.produce import produce_messages
from tests.integration.flowkit import chdb_rows, cli_environment, create_topics, topic_settings

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[2]
LEAN = REPO_ROOT.parent / "shared" / "data" / "options" / "lean"
DAY = dt.date(2015, 12, 24)
CUT, END = (midnight_ns(DAY) + (9 * 3600 + minute * 60) * 10**9 for minute in (45, 60))
ANALYTICS = "SELECT symbol, ts_ns, spot, mid, iv, delta, reason FROM option_analytics FINAL ORDER BY ts_ns, symbol"
SURFACE = ("SELECT expiry, ts_ns, points, atm_iv, svi_a, svi_b, svi_rho, svi_m, svi_sigma, svi_rmse_vol "
           "FROM vol_surface FINAL ORDER BY ts_ns, expiry")
OPTION_FEATURES = "SELECT underlying, ts_ns, names, values FROM option_features FINAL ORDER BY ts_ns"


def tickwise(env: dict[str, str], state_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dataflows.cli", *args, "--state-dir", str(state_dir)],
                          cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300)



def same(rows: list[list[object]]) -> list[tuple[object, ...]]:
    """Rows with NaN (null in JSON) as None, so equal rows compare equal."""
    return [tuple(None if isinstance(value, float) and math.isnan(value) else value for value in row) for row in rows]


@pytest.fixture(scope="module")
def run(stack, tmp_path_factory: pytest.TempPathFactory) -> dict:
    if not LEAN.exists():
        pytest.skip("the shared LEAN options data is not on this machine")
    work = tmp_path_factory.mktemp("options")
    settings = topic_settings(stack, f"options{uuid.uuid4().hex[:8]}", f"chdb://{work / 'chdb'}")
    create_topics(settings, partitions=2)
    env = cli_environment(settings)
    produced = tickwise(env, work / "state", "produce", "--options-day", "GOOG:2015-12-24", "--lean", str(LEAN),
                        "--until", "09:45")
    assert produced.returncode == 0, produced.stderr[-3000:]
    first = tickwise(env, work / "state", "run", "--until-eof")
    assert first.returncode == 0, first.stderr[-3000:]
    later = [message for message in read_option_day(LEAN, "GOOG", DAY).messages if CUT <= message.ts_ns < END]
    produce_messages(settings.kafka.bootstrap, settings.kafka.ticks_topic, encode_option_day(later))
    resumed = tickwise(env, work / "state", "run", "--until-eof")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    straight_env = {**env, "CLICKHOUSE_URL": f"chdb://{work / 'straight-chdb'}"}
    straight = tickwise(straight_env, work / "straight-state", "run", "--until-eof")
    assert straight.returncode == 0, straight.stderr[-3000:]
    return {"chdb": work / "chdb", "straight": work / "straight-chdb", "produce": produced.stdout + produced.stderr,
            "env": env, "state": work / "state"}


def test_every_minute_of_the_chain_has_contract_rows_with_implied_volatilities(run: dict) -> None:
    rows = chdb_rows(run["chdb"], ANALYTICS)
    minutes = {ts_ns for _, ts_ns, *_ in rows}
    session = [ts for ts in minutes if midnight_ns(DAY) + 34_260 * 10**9 <= ts < END]  # 09:31 to 09:59
    assert len(session) >= 25 and max(minutes) >= END - 60 * 10**9
    valid = [row for row in rows if row[-1] == "ok"]
    assert len(valid) > 1000 and all(0.01 < row[4] < 5 and -1 <= row[5] <= 1 for row in valid)
    assert {symbol[:6] for symbol, *_ in rows} == {"GOOG  "} and all(len(row[0]) == 21 for row in rows)
    before_cut = [message for message in read_option_day(LEAN, "GOOG", DAY).messages if message.ts_ns < CUT]
    assert f"produced {len(before_cut):,} ticks" in run["produce"]


def test_every_minute_has_svi_fits_per_expiry(run: dict) -> None:
    rows = chdb_rows(run["chdb"], SURFACE)
    fitted = [row for row in rows if row[4] is not None and not math.isnan(row[4])]
    assert len({row[1] for row in fitted}) >= 25 and len({row[0] for row in fitted}) >= 3
    assert all(0.05 < row[3] < 2 and row[9] < 0.05 for row in fitted if row[3] is not None and not math.isnan(row[3]))


def test_a_restarted_run_stores_the_rows_of_a_run_that_never_stopped(run: dict) -> None:
    resumed = same(chdb_rows(run["chdb"], ANALYTICS))
    assert resumed == same(chdb_rows(run["straight"], ANALYTICS)) and resumed
    assert same(chdb_rows(run["chdb"], SURFACE)) == same(chdb_rows(run["straight"], SURFACE))
    features = chdb_rows(run["chdb"], OPTION_FEATURES)  # NaN comes back as null (JSON)
    assert features == chdb_rows(run["straight"], OPTION_FEATURES) and features


def test_every_closed_minute_has_the_underlyings_option_features_with_a_front_atm_iv_in_session(run: dict) -> None:
    rows = chdb_rows(run["chdb"], OPTION_FEATURES)
    priced = {ts_ns for _, ts_ns, *_ in chdb_rows(run["chdb"], ANALYTICS)}
    by_minute = {ts_ns: dict(zip(names, values)) for _, ts_ns, names, values in rows}
    assert len(by_minute) == len(rows) and {underlying for underlying, *_ in rows} == {"GOOG"}
    assert {ts_ns for ts_ns, features in by_minute.items() if features} == priced  # a row per priced minute
    session = [ts for ts in by_minute if midnight_ns(DAY) + 34_260 * 10**9 <= ts <= END]  # 09:31 to 10:00
    assert len(session) >= 25 and all(0.05 < by_minute[ts]["atm_iv"] < 2 for ts in session)
    assert {"rr25", "bf25", "term_slope", "put_call_volume_ratio", "put_call_oi_ratio",
            "gamma_exposure"} <= set(by_minute[max(session)])


def test_the_online_store_shows_the_last_minutes_option_features_after_the_underlyings_own(run: dict) -> None:
    _, last, names, values = chdb_rows(run["chdb"], OPTION_FEATURES)[-1]

    done = tickwise(run["env"], run["state"], "features", "GOOG", "--format", "json")
    record = orjson.loads(done.stdout.strip().splitlines()[-1])

    assert done.returncode == 0, done.stderr[-2000:]
    assert record["opt_ts_ns"] == last >= END - 60 * 10**9 and record["opt_time"] == iso_time(last)
    assert {name: record[f"opt_{name}"] for name in names} == {name: clean(value) for name, value in zip(names, values)}
    assert 0.05 < record["opt_atm_iv"] < 2 and 700 < record["opt_spot"] < 800
    own = list(record)[:list(record).index("opt_time")]
    assert own[:3] == ["symbol", "time", "ts_ns"] and record["ts_ns"] < END and len(own) > 10


def test_the_underlyings_features_come_from_its_own_ticks_only(run: dict) -> None:
    [[rows, elsewhere]] = chdb_rows(run["chdb"], "SELECT count(), countIf((partition, offset) NOT IN (SELECT partition, "
                                                 "offset FROM ticks FINAL)) FROM features FINAL WHERE symbol = 'GOOG'")
    [[ticks]] = chdb_rows(run["chdb"], "SELECT count() FROM ticks FINAL WHERE symbol = 'GOOG'")
    rejects = dict(chdb_rows(run["chdb"], "SELECT stage, count() FROM rejects FINAL GROUP BY stage"))
    own = [m for m in read_option_day(LEAN, "GOOG", DAY).messages if m.ts_ns < END and type(m).__name__ in
           ("Quote", "Trade")]
    assert rows > 0 and elsewhere == 0  # each feature row comes from one of GOOG's own ticks
    # every quote and trade of GOOG is a tick or a reject (the event-time guard's); no option message is either
    assert "validate_option" not in rejects and ticks + sum(rejects.values()) == len(own)


def test_the_report_draws_the_smile_of_the_last_minute_from_the_runs_tables(run: dict, tmp_path: Path) -> None:
    done = tickwise(run["env"], run["state"], "report", "--out", str(tmp_path))
    page = (tmp_path / "report.html").read_text()
    smile = page[page.index('data-panel="smile"'):].split("</section>")[0]

    assert done.returncode == 0, done.stderr[-2000:]
    assert '<img src="smile.png"' in smile and (tmp_path / "smile.png").stat().st_size > 10_000


def test_verify_after_an_options_run_accounts_for_every_offset_and_exits_0(run: dict) -> None:
    # Every offset is a tick, a reject or an option message (stored in option_messages by kind and contract).
    messages = [m for m in read_option_day(LEAN, "GOOG", DAY).messages if m.ts_ns < END]
    options = {kind: sum(type(m).__name__ == kind for m in messages)
               for kind in ("OptionQuote", "OptionTrade", "OptionOpenInterest")}

    done = tickwise(run["env"], run["state"], "verify", "--format", "json")
    report = orjson.loads(done.stdout.strip().splitlines()[-1])
    stored = dict(chdb_rows(run["chdb"], "SELECT kind, count() FROM option_messages FINAL GROUP BY kind"))

    assert done.returncode == 0 and report["ok"] and report["missing_offsets"] == report["unprocessed_offsets"] == 0
    assert sum(part["offsets"] for part in report["partitions"].values()) == len(messages)
    assert stored == {"quote": options["OptionQuote"], "trade": options["OptionTrade"],
                      "open_interest": options["OptionOpenInterest"]}


@pytest.fixture(scope="module")
def joined(run: dict) -> dict:
    """The same topic run again from the start with TICKWISE_OPTIONS_JOIN=1, in a state dir, ClickHouse and
    Redis keys of its own."""
    work = run["state"].parent / "joined"
    env = {**run["env"], "TICKWISE_OPTIONS_JOIN": "1", "CLICKHOUSE_URL": f"chdb://{work / 'chdb'}",
           "TICKWISE_REDIS_KEY_PREFIX": f"joined{uuid.uuid4().hex[:8]}:features:"}
    done = tickwise(env, work / "state", "run", "--until-eof")
    assert done.returncode == 0, done.stderr[-3000:]
    return {"chdb": work / "chdb", "env": env, "state": work / "state"}


FEATURE_ROWS = ("SELECT ts_ns, offset, feature_set, names, values FROM features FINAL WHERE symbol = 'GOOG' "
                "ORDER BY ts_ns, offset")


def test_with_the_join_goog_rows_carry_the_chain_features_of_the_last_minute_closed_before_them(joined: dict) -> None:
    rows = chdb_rows(joined["chdb"], FEATURE_ROWS)
    minutes = {ts_ns: dict(zip(names, values)) for _, ts_ns, names, values in chdb_rows(joined["chdb"], OPTION_FEATURES)}
    checked = 0
    for row_ts, _, feature_set, names, values in rows:
        row = dict(zip(names, values))
        assert feature_set.endswith("+options1") and names[-1] == "opt_age_s"
        if row["opt_age_s"] is None:  # NaN: before the chain's first minute with quotes
            assert checked == 0
            continue
        minute = row_ts - round(row["opt_age_s"] * 1e9)
        assert minute in minutes and not [m for m in minutes if minute < m < row_ts]
        assert {name: row[f"opt_{name}"] for name in minutes[minute]} == minutes[minute]
        checked += 1
    atm = [dict(zip(names, values))["opt_atm_iv"] for *_, names, values in rows]
    assert checked > len(rows) // 2 and any(value is not None and 0.05 < value < 2 for value in atm)


def test_with_the_join_goog_own_features_are_those_of_the_run_without_it(run: dict, joined: dict) -> None:
    plain = chdb_rows(run["straight"], FEATURE_ROWS)
    rows = chdb_rows(joined["chdb"], FEATURE_ROWS)
    width = sum(name.startswith("opt_") for name in rows[0][3])
    assert width == 8 and [r[:2] for r in rows] == [r[:2] for r in plain]
    assert [(fs.removesuffix("+options1"), n[:-width], v[:-width]) for _, _, fs, n, v in rows] == \
        [(fs, n, v) for _, _, fs, n, v in plain]


def test_with_the_join_the_online_store_row_has_the_chain_features(joined: dict) -> None:
    done = tickwise(joined["env"], joined["state"], "features", "GOOG", "--format", "json")
    record = orjson.loads(done.stdout.strip().splitlines()[-1])
    assert done.returncode == 0, done.stderr[-2000:]
    assert record["opt_age_s"] is not None and 0 <= record["opt_age_s"] < 120 and 0.05 < record["opt_atm_iv"] < 2
    # The chain's latest minute is named apart (chain_*): the row's opt_* are what the row carried.
    minute = record["ts_ns"] - round(record["opt_age_s"] * 1e9)
    assert record["chain_ts_ns"] >= minute and 0.05 < record["chain_atm_iv"] < 2
    assert list(record).index("opt_atm_iv") < list(record).index("chain_time")
