"""The report pages a desk opens, rendered from a small real run: no panel is empty.

A child process runs the live flow over the shipped IBM sample's first 20 minutes after the open
(the plumbing model, which trades) into a fresh chDB, renders ``tickwise report`` from it and
backtests the same ticks with its report. This process then reads each page the way a browser
lays it out: every ``data-panel`` section must show a picture that is not blank, a table with
rows, or a sentence saying why there is nothing. (No headless Chromium installs from the
package registries alone, so the pages are checked structurally, not from screenshots.)
"""

from __future__ import annotations

import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import orjson
import pandas as pd
import pytest
from PIL import Image

from dataflows.frames import History

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "data" / "sample"
PLUMBING_MODEL = REPO / "tests" / "models" / "plumbing"
START = pd.Timestamp("2013-10-09 13:25", tz="UTC")
END = pd.Timestamp("2013-10-09 13:50", tz="UTC")

RUN = """
import sys
from pathlib import Path
from bytewax.testing import run_main
from dataflows.backtest import file_source, run_backtest
from dataflows.components import build_components
from dataflows.config import load_settings
from dataflows.outputs import Outputs
from dataflows.report import render_report
from dataflows.signals import build_flow
from dataflows.tickfiles import read_tick_frame
from sinks.clickhouse import ClickHouseSettings, ClickHouseSink, ClickHouseWriter
from sinks.metrics import MetricsRegistry

sample, model, chdb, live, backtest, start, end = sys.argv[1:]
frame = read_tick_frame(sorted(Path(sample).glob("*.csv.gz")), ["IBM"], int(start), int(end))
settings = load_settings(model={"spec": model}, clickhouse={"url": f"chdb://{chdb}"}, run={"until_eof": True},
                         metrics={"port": 0}, risk={"symbols": "IBM"})
run_main(build_flow(build_components(settings, registry=MetricsRegistry()), file_source(frame), Outputs(
    clickhouse=ClickHouseSink(ClickHouseSettings(f"chdb://{chdb}")), redis=None, signals=None, dead_letters=None,
    model_events=None)))
writer = ClickHouseWriter(ClickHouseSettings(f"chdb://{chdb}"))
render_report(writer.connect(), Path(live))
writer.close()
run_backtest(build_components(settings, registry=MetricsRegistry()), Path(backtest), frame=frame)
"""


class Panels(HTMLParser):
    """Each ``data-panel`` section of a page: its images, table rows and words outside tables."""

    def __init__(self) -> None:
        super().__init__()
        self.panels: dict[str, dict] = {}
        self._current: dict | None = None
        self._depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if tag == "section" and "data-panel" in named:
            self._current = self.panels.setdefault(named["data-panel"] or "", {"images": [], "rows": 0, "words": ""})
        elif self._current is not None and tag == "img":
            self._current["images"].append(named["src"])
        elif self._current is not None and tag == "tr":
            self._current["rows"] += 1
        elif self._current is not None and tag == "p":
            self._depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "section":
            self._current = None
        elif tag == "p":
            self._depth = max(0, self._depth - 1)

    def handle_data(self, data: str) -> None:
        if self._current is not None and self._depth:
            self._current["words"] += data


def panels_of(page: Path) -> dict[str, dict]:
    parser = Panels()
    parser.feed(page.read_text())
    return parser.panels


def inked_share(png: Path) -> float:
    """Share of the picture's middle (the plot area, away from titles and tick labels) that is not white."""
    pixels = np.asarray(Image.open(png).convert("L"))
    height, width = pixels.shape
    middle = pixels[height // 5: height * 4 // 5, width // 5: width * 4 // 5]
    return float((middle < 230).mean())


def assert_no_panel_is_empty(page: Path) -> dict[str, dict]:
    panels = panels_of(page)
    assert panels, f"{page} has no data-panel section"
    for name, panel in panels.items():
        shown = [inked_share(page.parent / src) for src in panel["images"]]
        assert all(share > 0.003 for share in shown), (name, shown)
        assert shown or panel["rows"] or len(panel["words"].split()) >= 3, f"panel {name} of {page.name} is empty"
    return panels


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    work = tmp_path_factory.mktemp("report_pages")
    chdb, live, backtest = work / "state" / "chdb", work / "live", work / "backtest"
    done = subprocess.run([sys.executable, "-c", RUN, str(SAMPLE), str(PLUMBING_MODEL), str(chdb), str(live),
                           str(backtest), str(START.value), str(END.value)],
                          cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return {"state_dir": work / "state", "live": live / "report.html", "backtest": backtest / "report.html"}


def test_live_report_when_rendered_from_a_real_run_then_no_panel_is_empty(pages: dict[str, Path]) -> None:
    panels = assert_no_panel_is_empty(pages["live"])

    assert {"prices", "pnl_curve", "drawdown", "calibration", "accuracy", "drift_events", "latency"} <= set(panels)
    assert "no processing time" in panels["latency"]["words"]
    assert "New York" in pages["live"].read_text()


def test_backtest_report_when_rendered_from_a_real_slice_then_no_panel_is_empty(pages: dict[str, Path]) -> None:
    panels = assert_no_panel_is_empty(pages["backtest"])

    assert {"baselines", "prices", "equity", "drawdown", "exposure", "attribution", "calibration"} <= set(panels)
    html = pages["backtest"].read_text()
    assert "<th>do nothing</th>" in html and "<th>buy and hold</th>" in html


def test_paper_fills_when_stored_then_stamped_at_the_quote_after_their_signal(pages: dict[str, Path]) -> None:
    with History.open(pages["state_dir"]) as history:
        fills = history.pnl().query("reason == 'fill'")
        signals = history.signals()
    assert len(fills) > 0 and len(signals) > 0
    signal_times = signals.index.asi8
    for fill_time in fills.index.asi8:
        before = signal_times[signal_times < fill_time]
        assert len(before) and fill_time - before.max() < 60 * 10**9, pd.Timestamp(fill_time, tz="UTC")


def test_backtest_fills_when_drawn_then_their_event_times_fall_inside_the_tape(pages: dict[str, Path]) -> None:
    fills = [orjson.loads(line) for line in (pages["backtest"].parent / "fills.jsonl").read_bytes().splitlines()]

    assert all(START.value <= fill["ts_ns"] < END.value for fill in fills)
