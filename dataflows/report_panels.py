"""What every report page shares: clock-time axes, panels that are never blank, one HTML layout.

A desk reads a chart against the clock of the market it trades, so time axes are timezone-aware
and say which zone they show: New York for equities, UTC when every symbol is a crypto venue's
(open around the clock; the same prefixes as the session filter's default,
``dataflows.config_session.DEFAULT_SESSION_BY_PREFIX``). A panel whose table has no rows says so
in words, drawn where the chart would be and written under it, so no panel is ever an empty frame.

Each panel is one ``<section class="panel" data-panel="NAME">``: the tests (and anyone scraping
the page) find every panel by that attribute.

>>> clock_zone(["IBM", "BTC-USD"]), clock_zone(["BTCUSDT"]), clock_zone([])
('America/New_York', 'UTC', 'America/New_York')
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402 - after choosing the backend
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

from dataflows.config_session import DEFAULT_SESSION_BY_PREFIX  # noqa: E402

NEW_YORK = "America/New_York"
UTC = "UTC"
_ZONE_NAMES = {NEW_YORK: "New York time", UTC: "UTC"}
_AROUND_THE_CLOCK = tuple(pair.split("=")[0] for pair in DEFAULT_SESSION_BY_PREFIX.split(","))
_PNG_METADATA = {"Software": None}  # no software/date tag: two renders of the same data are byte-identical
BUY_COLOR, SELL_COLOR = "tab:green", "tab:red"


def clock_zone(symbols: Iterable[str]) -> str:
    """New York, unless every symbol trades around the clock (a crypto venue's), then UTC."""
    symbols = list(symbols)
    if symbols and all(symbol.startswith(_AROUND_THE_CLOCK) for symbol in symbols):
        return UTC
    return NEW_YORK


def clock_times(ts_ns: Sequence[int] | np.ndarray | pd.Series, zone: str) -> pd.DatetimeIndex:
    """Event times (ns since the epoch, UTC) as timezone-aware clock times in ``zone``."""
    return pd.DatetimeIndex(pd.to_datetime(np.asarray(ts_ns, dtype=np.int64), unit="ns", utc=True)).tz_convert(zone)


def zone_name(zone: str) -> str:
    """How a page names a zone: ``New York time (America/New_York)``."""
    return f"{_ZONE_NAMES.get(zone, zone)} ({zone})"


def clock_axis(axes: Any, zone: str) -> None:
    """Hours and minutes in ``zone`` on the x axis (the date once, at the axis' end), the zone named."""
    locator = mdates.AutoDateLocator(tz=zone)
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, tz=zone))
    axes.set_xlabel(zone_name(zone))


def plain_numbers(axes: Any, decimals: int = 0) -> None:
    """Y tick labels as plain numbers with thousands separators (no ``1e6`` offset)."""
    axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _position: f"{value:,.{decimals}f}"))


def say_empty(axes: Any, sentence: str) -> None:
    """Write ``sentence`` where the chart would be, without axes to suggest data."""
    axes.text(0.5, 0.5, sentence, ha="center", va="center", wrap=True, fontsize=11, transform=axes.transAxes)
    axes.set_xticks([])
    axes.set_yticks([])


def trade_markers(axes: Any, times: pd.DatetimeIndex, values: np.ndarray, directions: np.ndarray) -> None:
    """Buys as green up-triangles, sells as red down-triangles, at (time, value)."""
    for sign, marker, color, label in ((1, "^", BUY_COLOR, "buy"), (-1, "v", SELL_COLOR, "sell")):
        chosen = directions == sign
        if chosen.any():
            axes.scatter(times[chosen], values[chosen], marker=marker, color=color, s=36, zorder=3,
                         label=f"{label} ({int(chosen.sum())})")


def save_png(figure: Any, path: Path) -> None:
    figure.tight_layout()
    figure.savefig(path, dpi=80, metadata=_PNG_METADATA)
    plt.close(figure)


@dataclass(frozen=True)
class Panel:
    """One section of a page: a title, a body (an image or a table) and an optional note under it."""

    name: str
    title: str
    body: str
    note: str = ""

    def html(self) -> str:
        note = f'<p class="note">{self.note}</p>' if self.note else ""
        return (f'<section class="panel" data-panel="{html.escape(self.name)}"><h2>{html.escape(self.title)}</h2>'
                f"{self.body}{note}</section>")


def image_panel(name: str, title: str, note: str = "") -> Panel:
    """A panel showing ``<name>.png`` (written next to the page)."""
    return Panel(name, title, f'<img src="{name}.png" alt="{html.escape(title)}">', note)


def cell(value: Any) -> str:
    """A table cell's text: floats with four decimals and separators, ints with separators.

    >>> cell(1234.5), cell(1234567), cell(None), cell("a<b")
    ('1,234.5000', '1,234,567', '-', 'a&lt;b')
    """
    if isinstance(value, bool) or value is None:
        return "-" if value is None else str(value)
    if isinstance(value, float):
        return f"{value:,.4f}"
    if isinstance(value, int):
        return f"{value:,}"
    return html.escape(str(value))


def table_panel(name: str, title: str, header: Sequence[str], rows: Sequence[Sequence[Any]], empty: str,
                note: str = "", wrap: bool = False) -> Panel:
    """A table panel; with no rows, the sentence ``empty`` instead of a table. ``wrap``: cells may break
    at spaces (a wide table then fits the page instead of scrolling)."""
    if not rows:
        return Panel(name, title, f'<p class="empty">{html.escape(empty)}</p>', note)
    head = "<tr>" + "".join(f"<th>{html.escape(str(column))}</th>" for column in header) + "</tr>" if header else ""
    body = "".join("<tr>" + "".join(f"<{'th' if i == 0 else 'td'}>{cell(value)}</{'th' if i == 0 else 'td'}>"
                                    for i, value in enumerate(row)) + "</tr>" for row in rows)
    table = '<table class="wrap">' if wrap else "<table>"
    return Panel(name, title, f'<div class="wide">{table}{head}{body}</table></div>', note)


_STYLE = ("body{font-family:sans-serif;max-width:1040px;margin:1em auto;padding:0 1em}img{max-width:100%}"
          "table{border-collapse:collapse;font-size:12px}th,td{border:1px solid #ccc;padding:2px 6px;"
          "text-align:left;white-space:nowrap}.wrap th,.wrap td{white-space:normal}"
          ".wide{max-width:100%;overflow-x:auto}"
          ".panel{margin-bottom:1.5em}.note,.empty{font-size:13px;color:#333;max-width:60em}")


def page(title: str, intro: str, panels: Sequence[Panel]) -> str:
    """The whole HTML page: title, an introduction (HTML) and the panels in order."""
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{_STYLE}</style></head><body><h1>{html.escape(title)}</h1>{intro}"
            + "".join(panel.html() for panel in panels) + "</body></html>\n")
