"""Population stability index (PSI) of each feature over a sliding window vs its training distribution.

The reference is a ``FeatureProfile``: per feature, the inner bin edges (deciles of the
training values) and the share of training values in each bin. It is computed once from the
training frame (``profile_from_columns``) and stored next to the model as
``feature_profile.json``, outside ``manifest.json`` so it never changes the model version.

``PsiMonitor`` is the per-symbol state: for every profiled feature a ring buffer of the bin
index of the last ``window`` finite values and the count per bin, so an update is O(1) per
feature (one ``bisect``) and a PSI check is O(bins). Every ``check_every`` rows, once the
window is full, it computes ``PSI = sum((actual - expected) * ln(actual / expected))`` (shares
clipped at ``epsilon``) and returns a ``PsiReading`` per feature; an ``OnsetAlarm`` turns a
PSI rising above ``threshold`` (0.1 by default) into one ``DriftEvent`` of kind
``feature_investigation``, re-armed once the PSI falls below half the threshold.

Session segments: a profile may also hold ``name@open``, ``name@midday`` and ``name@close``
(``segmented_columns`` adds them to the training columns; ``operators.monitoring.sessions``
says which is which). A row of a segment the profile knows for a feature goes to that segment's
window and is compared with that segment's training distribution, so the open (wide spreads,
heavy volume) is never measured against the whole day; a check looks only at the plain
features and the current segment's.

>>> profile = FeatureProfile({"spread_bps": ((1.0, 2.0, 3.0), (0.25, 0.25, 0.25, 0.25))})
>>> monitor = PsiMonitor(profile, PsiConfig(window=100, check_every=50))
>>> from operators.messages import FeatureRow
>>> events = []
>>> for step in range(400):
...     value = (0.5, 1.5, 2.5, 3.5)[step % 4] if step < 200 else 9.0
...     events += monitor.update(FeatureRow("IBM", step, 0, step, 185.0, ("spread_bps",), (value,)))[0]
>>> [(event.kind, event.feature, event.ts_ns, round(event.statistic, 2)) for event in events]
[('feature_investigation', 'spread_bps', 249, 0.62)]
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import msgspec
import numpy as np

from operators.messages.ids import stable_id
from operators.messages import DriftEvent, FeatureRow
from operators.monitoring.sessions import SEGMENTS, session_segment
from operators.monitoring.thresholds import OnsetAlarm, Threshold

__all__ = ["DETECTOR", "PROFILE_FILE", "FeatureProfile", "PsiConfig", "PsiMonitor", "PsiReading",
           "population_stability_index", "profile_from_columns", "segmented_columns"]

DETECTOR = "psi"
KIND = "feature_investigation"
PROFILE_FILE = "feature_profile.json"
PROFILE_FORMAT = "tickwise-feature-profile/1"


def population_stability_index(actual: Iterable[float], expected: Iterable[float], epsilon: float = 1e-4) -> float:
    """PSI of two aligned share vectors (each summing to 1); shares are clipped at ``epsilon``.

    >>> round(population_stability_index([0.5, 0.5], [0.5, 0.5]), 6)
    0.0
    >>> round(population_stability_index([0.9, 0.1], [0.5, 0.5]), 4)
    0.8789
    """
    total = 0.0
    for a, e in zip(actual, expected):
        a = max(a, epsilon)
        e = max(e, epsilon)
        total += (a - e) * math.log(a / e)
    return total


class FeatureProfile:
    """Training distribution of each feature: ``{name: (inner_edges, expected_shares)}``.

    ``len(expected_shares) == len(inner_edges) + 1``; bin ``i`` holds values ``v`` with
    ``edges[i-1] <= v < edges[i]`` (``bisect_right``).
    """

    __slots__ = ("bins",)

    def __init__(self, bins: Mapping[str, tuple[tuple[float, ...], tuple[float, ...]]]) -> None:
        checked: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = {}
        for name, (edges, shares) in bins.items():
            edges, shares = tuple(float(e) for e in edges), tuple(float(s) for s in shares)
            if len(shares) != len(edges) + 1 or any(b <= a for a, b in zip(edges, edges[1:])):
                raise ValueError(f"FeatureProfile[{name!r}]: expected increasing edges and one more share than "
                                 f"edges, got {len(edges)} edges and {len(shares)} shares")
            if not math.isclose(sum(shares), 1.0, abs_tol=1e-6):
                raise ValueError(f"FeatureProfile[{name!r}]: shares must sum to 1, got {sum(shares)}")
            checked[name] = (edges, shares)
        self.bins = checked

    @property
    def features(self) -> tuple[str, ...]:
        return tuple(self.bins)

    def to_json(self) -> bytes:
        return msgspec.json.encode({"format": PROFILE_FORMAT, "features": {
            name: {"edges": list(edges), "shares": list(shares)} for name, (edges, shares) in self.bins.items()}})

    @classmethod
    def from_json(cls, data: bytes) -> FeatureProfile:
        document = msgspec.json.decode(data)
        if not isinstance(document, dict) or document.get("format") != PROFILE_FORMAT:
            raise ValueError(f"not a feature profile of format {PROFILE_FORMAT!r}")
        return cls({name: (tuple(body["edges"]), tuple(body["shares"]))
                    for name, body in document["features"].items()})

    def save(self, model_dir: Path) -> Path:
        path = Path(model_dir) / PROFILE_FILE
        path.write_bytes(self.to_json())
        return path

    @classmethod
    def load(cls, model_dir: Path) -> FeatureProfile | None:
        """The profile stored next to a model, or None when the model has none (PSI then off)."""
        path = Path(model_dir) / PROFILE_FILE
        return cls.from_json(path.read_bytes()) if path.is_file() else None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FeatureProfile) and self.bins == other.bins

    def __repr__(self) -> str:
        return f"FeatureProfile(features={len(self.bins)})"


def profile_from_columns(columns: Mapping[str, Iterable[float]], bins: int = 10,
                         min_values: int = 100) -> FeatureProfile:
    """Decile edges and shares of each column's finite values (columns with too few values or a
    single distinct value are left out: PSI on them says nothing).

    >>> profile = profile_from_columns({"x": np.arange(1000.0), "flat": np.ones(1000)})
    >>> profile.features, len(profile.bins["x"][0]), profile.bins["x"][1][0]
    (('x',), 9, 0.1)
    """
    if bins < 2:
        raise ValueError(f"profile_from_columns: bins must be >= 2, got {bins}")
    out: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = {}
    for name, values in columns.items():
        array = np.asarray(values, dtype=np.float64)
        array = array[np.isfinite(array)]
        if len(array) < min_values:
            continue
        edges = np.unique(np.quantile(array, np.linspace(0.0, 1.0, bins + 1)[1:-1]))
        if len(edges) == 0 or (len(edges) == 1 and not (array < edges[0]).any()):
            continue
        index = np.searchsorted(edges, array, side="right")
        shares = np.bincount(index, minlength=len(edges) + 1) / len(array)
        out[name] = (tuple(float(e) for e in edges), tuple(float(s) for s in shares))
    return FeatureProfile(out)


def segmented_columns(columns: Mapping[str, Iterable[float]], ts_ns: Iterable[int]) -> dict[str, np.ndarray]:
    """``columns`` plus ``name@segment`` for each session segment with that segment's values only,
    for ``profile_from_columns`` (a segment with too few values is left out there).

    >>> open_ns = 1_381_325_400_000_000_000  # 2013-10-09 09:30 New York
    >>> split = segmented_columns({"x": [1.0, 2.0, 3.0]}, [open_ns, open_ns + 3_600 * 10**9, open_ns - 1])
    >>> {name: values.tolist() for name, values in split.items()}
    {'x': [1.0, 2.0, 3.0], 'x@open': [1.0], 'x@midday': [2.0], 'x@close': []}
    """
    segments = np.array([session_segment(int(ts)) or "" for ts in ts_ns])
    out = {name: np.asarray(values, dtype=np.float64) for name, values in columns.items()}
    for name in list(out):
        for segment in SEGMENTS:
            out[f"{name}@{segment}"] = out[name][segments == segment]
    return out


class PsiReading(msgspec.Struct, frozen=True):
    """The PSI of one feature of one symbol over the window ending at ``ts_ns``."""

    symbol: str
    ts_ns: int
    feature: str
    psi: float


@dataclass(frozen=True, slots=True)
class PsiConfig:
    """``window`` values per feature, a check every ``check_every`` rows, alarm above ``threshold``.

    >>> PsiConfig(window=5)
    Traceback (most recent call last):
    ...
    ValueError: PsiConfig.window must be an int >= 20, got 5
    """

    window: int = 600
    check_every: int = 60
    threshold: float = 0.1
    epsilon: float = 1e-4

    def __post_init__(self) -> None:
        if type(self.window) is not int or self.window < 20:
            raise ValueError(f"PsiConfig.window must be an int >= 20, got {self.window!r}")
        if type(self.check_every) is not int or self.check_every < 1:
            raise ValueError(f"PsiConfig.check_every must be an int >= 1, got {self.check_every!r}")
        if not (isinstance(self.threshold, (int, float)) and 0.0 < self.threshold < math.inf):
            raise ValueError(f"PsiConfig.threshold must be a number > 0, got {self.threshold!r}")
        if not 0.0 < self.epsilon < 0.1:
            raise ValueError(f"PsiConfig.epsilon must be in (0, 0.1), got {self.epsilon!r}")


class _FeatureWindow:
    __slots__ = ("ring", "counts", "position", "filled")

    def __init__(self, window: int, bins: int) -> None:
        self.ring = [0] * window
        self.counts = [0] * bins
        self.position = 0
        self.filled = 0

    def push(self, bin_index: int) -> None:
        window = len(self.ring)
        if self.filled == window:
            self.counts[self.ring[self.position]] -= 1
        else:
            self.filled += 1
        self.ring[self.position] = bin_index
        self.counts[bin_index] += 1
        self.position = (self.position + 1) % window


class PsiMonitor:
    """Sliding-window PSI of every profiled feature of one symbol against the training profile."""

    __slots__ = ("_profile", "_config", "_windows", "_alarms", "_rows", "_layout", "last_psi")

    def __init__(self, profile: FeatureProfile, config: PsiConfig | None = None) -> None:
        self._profile = profile
        self._config = config or PsiConfig()
        threshold = Threshold(KIND, "above", self._config.threshold, self._config.threshold / 2)
        self._windows = {name: _FeatureWindow(self._config.window, len(shares))
                         for name, (_, shares) in profile.bins.items()}
        self._alarms = {name: OnsetAlarm(threshold) for name in profile.bins}
        self._rows = 0
        self._layout: tuple[tuple[str, ...], str | None, list[tuple[int, str]]] | None = None
        self.last_psi: dict[str, float] = {}

    def _positions(self, names: tuple[str, ...], segment: str | None) -> list[tuple[int, str]]:
        """(row position, profile key) of each profiled feature: its segment's key when profiled."""
        layout = self._layout
        if layout is None or layout[1] != segment or layout[0] is not names and layout[0] != names:
            windows = self._windows
            keys = [(i, f"{name}@{segment}" if f"{name}@{segment}" in windows else name)
                    for i, name in enumerate(names)]
            layout = self._layout = (names, segment, [(i, key) for i, key in keys if key in windows])
        return layout[2]

    def _checked(self, key: str, segment: str | None) -> bool:
        """A check covers the plain features and the current segment's."""
        _, at, part = key.rpartition("@")
        return not at or part not in SEGMENTS or part == segment

    def update(self, row: FeatureRow) -> tuple[list[DriftEvent], list[PsiReading]]:
        """Feed one row; at a check, return the onset events and every feature's reading."""
        bins = self._profile.bins
        values = row.values
        segment = session_segment(row.ts_ns)
        for index, name in self._positions(row.names, segment):
            value = values[index]
            if value == value and value not in (math.inf, -math.inf):
                self._windows[name].push(bisect_right(bins[name][0], value))
        self._rows += 1
        if self._rows % self._config.check_every:
            return [], []
        events: list[DriftEvent] = []
        readings: list[PsiReading] = []
        window = self._config.window
        for name, feature_window in self._windows.items():
            if feature_window.filled < window or not self._checked(name, segment):
                continue
            actual = [count / window for count in feature_window.counts]
            psi = population_stability_index(actual, bins[name][1], self._config.epsilon)
            self.last_psi[name] = psi
            readings.append(PsiReading(row.symbol, row.ts_ns, name, psi))
            if self._alarms[name].update(psi):
                events.append(DriftEvent(event_id=stable_id(row.symbol, name, DETECTOR, row.ts_ns),
                                         symbol=row.symbol, ts_ns=row.ts_ns, feature=name, detector=DETECTOR,
                                         statistic=psi, kind=KIND))
        return events, readings

    def __getstate__(self) -> dict[str, object]:
        return {"profile": self._profile.bins, "config": self._config, "windows": self._windows,
                "alarms": self._alarms, "rows": self._rows, "last_psi": self.last_psi}

    def __setstate__(self, state: dict[str, object]) -> None:
        self._profile = FeatureProfile(state["profile"])  # type: ignore[arg-type]
        self._config = state["config"]  # type: ignore[assignment]
        self._windows = state["windows"]  # type: ignore[assignment]
        self._alarms = state["alarms"]  # type: ignore[assignment]
        self._rows = state["rows"]  # type: ignore[assignment]
        self.last_psi = state["last_psi"]  # type: ignore[assignment]
        self._layout = None

    def __repr__(self) -> str:
        return f"PsiMonitor(features={len(self._windows)}, config={self._config!r})"
