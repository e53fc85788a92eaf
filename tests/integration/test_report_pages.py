"""The report pages a desk opens, rendered from a small real run: no panel is empty.

A child process runs the live flow over the shipped IBM sample's first 20 minutes after the open
(the plumbing model, which trades) into a fresh chDB, renders ``tickwise report`` from it and
backtests the same ticks with its report. This process then reads each page the way a browser
lays it out: every ``data-panel`` section must show a picture that is not blank, a table with
rows, or a sentence saying why there is nothing.

No headless Chromium installs with pip alone (Playwright's wheel downloads its browser from
outside the package registries; kaleido 0.2's bundled Chromium runs only its own export app), so
that structural check always runs. When a Chromium is at hand (``TICKWISE_CHROMIUM``, or
``chromium-headless-shell``/``chromium`` on the PATH, e.g. Debian's package), the pages are also
opened in it over the DevTools pipe (no client library) and each panel's screenshot region is
checked for ink.
"""

from __future__ import annotations

import base64
import fcntl
import io
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
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


class Chromium:
    """Headless Chromium driven over ``--remote-debugging-pipe``: DevTools messages, NUL-separated,
    on file descriptors 3 (to the browser) and 4 (from it)."""

    def __init__(self, executable: str, width: int = 1100) -> None:
        to_browser, self._send = os.pipe()
        self._receive, from_browser = os.pipe()

        def wire() -> None:  # in the child: its fds 3 and 4 become the pipes' browser ends
            high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in (to_browser, from_browser)]
            os.dup2(high[0], 3)
            os.dup2(high[1], 4)

        self._process = subprocess.Popen(
            [executable, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             "--remote-debugging-pipe", "about:blank"],
            pass_fds=(3, 4), preexec_fn=wire, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        os.close(to_browser)
        os.close(from_browser)
        self._buffer, self._next_id, self._width = b"", 0, width
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self._session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        self.call("Emulation.setDeviceMetricsOverride", session=True, width=width, height=900,
                  deviceScaleFactor=1, mobile=False)
        self.call("Page.enable", session=True)

    def _message(self) -> dict:
        while b"\0" not in self._buffer:
            chunk = os.read(self._receive, 1 << 20)
            assert chunk, "chromium closed its DevTools pipe"
            self._buffer += chunk
        message, _, self._buffer = self._buffer.partition(b"\0")
        return orjson.loads(message)

    def call(self, method: str, session: bool = False, **params: object) -> dict:
        self._next_id += 1
        command: dict = {"id": self._next_id, "method": method, "params": params}
        if session:
            command["sessionId"] = self._session
        os.write(self._send, orjson.dumps(command) + b"\0")
        while True:
            message = self._message()
            if message.get("id") == self._next_id:
                assert "error" not in message, message
                return message["result"]

    def wait_for(self, event: str) -> None:
        while self._message().get("method") != event:
            pass

    def evaluate(self, expression: str) -> object:
        return self.call("Runtime.evaluate", session=True, expression=expression, returnByValue=True,
                         awaitPromise=True)["result"]["value"]

    def open(self, page: Path) -> None:
        self.call("Page.navigate", session=True, url=page.as_uri())
        self.wait_for("Page.loadEventFired")

    def screenshot(self) -> Image.Image:
        height = int(self.evaluate("document.documentElement.scrollHeight"))
        shot = self.call("Page.captureScreenshot", session=True, format="png", captureBeyondViewport=True,
                         clip={"x": 0, "y": 0, "width": self._width, "height": height, "scale": 1})
        return Image.open(io.BytesIO(base64.b64decode(shot["data"])))

    def close(self) -> None:
        self._process.kill()
        self._process.wait()
        os.close(self._send)
        os.close(self._receive)


#: Each panel's content (everything but its title) as a page rectangle, and whether its images loaded.
PANEL_BOXES = """[...document.querySelectorAll('[data-panel]')].map(panel => {
  const parts = [...panel.children].filter(child => child.tagName !== 'H2').map(c => c.getBoundingClientRect());
  const top = Math.min(...parts.map(r => r.top)), bottom = Math.max(...parts.map(r => r.bottom));
  const images = [...panel.querySelectorAll('img')].every(image => image.complete && image.naturalWidth > 0);
  return [panel.dataset.panel, panel.getBoundingClientRect().left + scrollX, top + scrollY,
          panel.getBoundingClientRect().right + scrollX, bottom + scrollY, images];
})"""


def chromium_executable() -> str | None:
    return os.environ.get("TICKWISE_CHROMIUM") or shutil.which("chromium-headless-shell") or shutil.which("chromium")


@pytest.fixture(scope="module")
def chromium() -> Iterator[Chromium]:
    executable = chromium_executable()
    if executable is None:
        pytest.skip("no Chromium: set TICKWISE_CHROMIUM or install Debian's chromium-headless-shell "
                    "(pip has none that runs offline); the structural checks above still ran")
    browser = Chromium(executable)
    yield browser
    browser.close()


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


@pytest.mark.parametrize("name", ["live", "backtest"])
def test_page_when_opened_in_headless_chromium_then_every_panel_region_has_ink(
        pages: dict[str, Path], chromium: Chromium, name: str, tmp_path: Path) -> None:
    chromium.open(pages[name])
    boxes = chromium.evaluate(PANEL_BOXES)
    fits = chromium.evaluate("document.documentElement.scrollWidth <= innerWidth")
    shot = chromium.screenshot()
    shot.save(tmp_path / f"{name}.png")

    assert fits, f"the {name} page is wider than the window"
    assert {box[0] for box in boxes} == set(panels_of(pages[name]))
    for panel, left, top, right, bottom, images_loaded in boxes:
        region = np.asarray(shot.convert("L").crop((int(left), int(top), int(right), int(bottom))))
        assert images_loaded and region.shape[0] >= 10, (panel, region.shape)  # one line of text or more
        assert (region < 230).mean() > 0.003, f"panel {panel} of the {name} page looks blank in Chromium"
