"""TA-Lib's 61 candlestick patterns, fed one bar at a time, give TA-Lib's integer at every bar.

Parity is checked on the shared real series (``SERIES``: daily, hourly, minute and one-second
bars), with a non-default penetration where a pattern has one, and on a seeded synthetic random
walk into which textbook instances of the rare patterns are spliced, so that every pattern is
seen firing at least once where TA-Lib says it fires.
"""

from __future__ import annotations

import inspect
import math
from functools import lru_cache

import numpy as np
import pytest
import talib
from talib import abstract

from operators.ta.base import Indicator
from operators.ta.candles import TALIB_FUNCTIONS
from operators.ta.candles.single import Doji
from operators.ta.candles.stars import MorningStar
from tests.unit.operators.ta.talib_parity import SERIES, assert_parity, assert_refused, real_bars, stream, talib_outputs

PATTERN_NAMES = tuple(talib.get_function_groups()["Pattern Recognition"])
PENETRATION_PATTERNS = tuple(name for name in PATTERN_NAMES if "penetration" in abstract.Function(name).parameters)
NEVER_FIRING_ON_REAL_SERIES = ("CDL3STARSINSOUTH", "CDLABANDONEDBABY", "CDLCONCEALBABYSWALL", "CDLMATHOLD")
SYNTHETIC_LENGTH = 50_000

Template = tuple[tuple[float, float, float, float], ...]
"""Candles as (open, high, low, close) offsets from the current price, in units of 0.1%."""

TEMPLATES: dict[str, Template] = {
    "abandoned baby": ((0, 0.2, -10.2, -10), (-12, -11.8, -12.2, -12), (-11, -4, -11.1, -4.5)),
    "three stars in the south": ((0, 0.1, -17, -8), (-5, -4.9, -12, -9), (-9.5, -9.5, -10, -10)),
    "concealing baby swallow": ((0, 0, -3, -3), (-3.5, -3.5, -6.5, -6.5), (-7, -5, -8, -8), (-4.8, -4.6, -9, -8.8)),
    "mat hold": ((0, 10.1, -0.1, 10), (11, 11.2, 10.4, 10.5), (10.2, 10.6, 9.3, 9.6), (9.9, 10, 9, 9.3),
                 (9.5, 12.1, 9.4, 12)),
    "kicking, second longer": ((0, 0, -5, -5), (1, 7, 1, 7)),
    "kicking, first longer": ((0, 0, -7, -7), (1, 6, 1, 6)),
    "three black crows": ((0, 3.2, -0.1, 3), (3.1, 3.15, 1.99, 2), (2.5, 2.55, 0.95, 1), (1.5, 1.55, -0.05, 0)),
    "breakaway": ((0, 0.1, -8.1, -8), (-9, -8.9, -10.1, -10), (-10.5, -10.2, -11.5, -11), (-11.2, -11, -12.6, -12.5),
                  (-12.4, -8.4, -12.5, -8.5)),
    "rising three methods": ((0, 10.1, -0.1, 10), (9.5, 9.6, 8.4, 8.5), (8.6, 8.7, 7.6, 7.7), (7.8, 7.9, 6.9, 7),
                             (7.2, 12.1, 7.1, 12)),
    "upside gap two crows": ((0, 10.1, -0.1, 10), (11, 11.1, 10.4, 10.5), (11.5, 11.6, 10.1, 10.2)),
    "two crows": ((0, 10.1, -0.1, 10), (12, 12.2, 10.8, 11), (11.5, 11.6, 4.9, 5)),
}


def mirrored(template: Template) -> Template:
    """The same shape upside down: bullish becomes bearish."""
    return tuple((-opening, -low, -high, -close) for opening, high, low, close in template)


@lru_cache(maxsize=None)
def synthetic_bars(length: int = SYNTHETIC_LENGTH, seed: int = 20240607) -> dict[str, np.ndarray]:
    """A seeded random walk with mixed body, shadow and gap sizes on a 0.01 price grid (so equal
    prices, dojis and shadowless candles occur), with each template and its mirror image spliced
    in after ten calm candles at irregular intervals."""
    generator = np.random.default_rng(seed)
    templates = [shape for template in TEMPLATES.values() for shape in (template, mirrored(template))]
    rows: list[tuple[float, float, float, float]] = []
    price = 100.0
    while len(rows) < length:
        count = int(generator.integers(40, 400))
        gaps = np.rint(generator.normal(size=count) * generator.choice([0, 2, 15], count, p=[0.5, 0.3, 0.2]))
        body_scales = generator.choice([1, 3, 10, 25], count, p=[0.3, 0.3, 0.3, 0.1])
        bodies = np.rint(generator.normal(size=count) * body_scales)
        uppers = generator.geometric(generator.choice([0.9, 0.5, 0.15], count)) - 1
        lowers = generator.geometric(generator.choice([0.9, 0.5, 0.15], count)) - 1
        for gap, body, upper, lower in zip(gaps.tolist(), bodies.tolist(), uppers.tolist(), lowers.tolist()):
            opening = max(round(price + gap / 100, 2), 1.0)
            close = max(round(opening + body / 100, 2), 1.0)
            high, low = max(opening, close) + upper / 100, max(min(opening, close) - lower / 100, 0.5)
            rows.append((opening, high, low, close))
            price = close
        unit = price / 1000
        for step in range(10):
            opening, close = (price, price + unit) if step % 2 else (price + unit, price)
            rows.append((opening, max(opening, close) + 0.3 * unit, min(opening, close) - 0.3 * unit, close))
        for offsets in templates[int(generator.integers(len(templates)))]:
            rows.append(tuple(price + offset * unit for offset in offsets))
        price = rows[-1][3]
    columns = np.array(rows[:length], dtype=np.float64).T
    return dict(zip(("open", "high", "low", "close"), columns))


def test_the_catalogue_holds_every_talib_pattern_and_nothing_else() -> None:
    assert sorted(TALIB_FUNCTIONS) == sorted(PATTERN_NAMES)
    assert len(TALIB_FUNCTIONS) == 61


@pytest.mark.parametrize("name", PATTERN_NAMES)
def test_lookback_and_parameters_are_talibs(name: str) -> None:
    pattern = TALIB_FUNCTIONS[name]
    function = abstract.Function(name)
    assert pattern.lookback == function.lookback
    assert pattern.inputs == ("open", "high", "low", "close")
    assert pattern.outputs == tuple(function.output_names) == ("integer",)
    defaults = dict(function.parameters)
    assert {name: parameter.default for name, parameter in inspect.signature(pattern).parameters.items()} == defaults
    for parameter, default in defaults.items():
        assert getattr(pattern(), parameter) == default


@pytest.mark.parametrize("series", SERIES)
@pytest.mark.parametrize("name", PATTERN_NAMES)
def test_matches_talib_on_real_bars(name: str, series: str) -> None:
    assert_parity(name, TALIB_FUNCTIONS[name], series=series)


@pytest.mark.parametrize("series", SERIES)
@pytest.mark.parametrize("name", PENETRATION_PATTERNS)
def test_matches_talib_with_a_non_default_penetration(name: str, series: str) -> None:
    default = abstract.Function(name).parameters["penetration"]
    assert_parity(name, TALIB_FUNCTIONS[name], params={"penetration": 0.1 if default > 0.2 else 0.4}, series=series)


@pytest.mark.parametrize("name", PATTERN_NAMES)
def test_fires_on_some_real_series_unless_known_never_to(name: str) -> None:
    fires = sum(np.count_nonzero(talib_outputs(name, real_bars(series), {})[0]) for series in SERIES)
    if name in NEVER_FIRING_ON_REAL_SERIES:
        assert fires == 0, f"{name} now fires on real bars: move it out of NEVER_FIRING_ON_REAL_SERIES"
    else:
        assert fires > 0


@pytest.mark.parametrize("name", PATTERN_NAMES)
def test_matches_talib_on_a_synthetic_series_where_it_fires(name: str) -> None:
    bars = synthetic_bars()
    expected = talib_outputs(name, bars, {})[0]
    ours = stream(TALIB_FUNCTIONS[name](), bars)[:, 0]
    assert np.count_nonzero(expected) > 0, f"{name} never fires on the synthetic series"
    mismatched = np.flatnonzero(ours != expected)
    assert mismatched.size == 0, (
        f"{name}: {mismatched.size} bars differ, first at {mismatched[0]}: "
        f"talib {expected[mismatched[0]]}, ours {ours[mismatched[0]]}")


@pytest.mark.parametrize("name", PENETRATION_PATTERNS)
def test_matches_talib_on_the_synthetic_series_with_a_non_default_penetration(name: str) -> None:
    bars = synthetic_bars()
    parameters = {"penetration": 0.0}
    expected = talib_outputs(name, bars, parameters)[0]
    ours = stream(TALIB_FUNCTIONS[name](**parameters), bars)[:, 0]
    assert np.array_equal(ours, expected)


def test_value_is_zero_not_nan_before_the_lookback_as_talib_reports() -> None:
    doji = Doji()
    assert not doji.ready and doji.value == 0.0 and doji.values == (0.0,)
    for _ in range(Doji.lookback):
        doji.update(10.0, 10.5, 9.5, 10.0)
        assert not doji.ready and doji.value == 0.0
    doji.update(10.0, 10.5, 9.5, 10.0)
    assert doji.ready and doji.value == 100.0


def test_reset_forgets_the_candles_and_keeps_the_penetration() -> None:
    bars = synthetic_bars()
    star = MorningStar(penetration=0.1)
    first = stream(star, bars)
    star.reset()
    assert not star.ready and star.value == 0.0 and star.penetration == 0.1
    assert np.array_equal(stream(star, bars), first)


@pytest.mark.parametrize("penetration", [-0.1, math.nan, math.inf, 3.1e37, "0.3", True, None])
def test_a_bad_penetration_is_refused_with_its_value(penetration: object) -> None:
    assert_refused(MorningStar, {"penetration": penetration},
                   f"MorningStar penetration must be a number in [0, 3e+37], got {penetration!r}")


def test_penetration_takes_talibs_whole_range() -> None:
    for penetration in (0, 0.0, 3e37):
        assert MorningStar(penetration=penetration).penetration == float(penetration)


def test_every_pattern_follows_the_indicator_contract() -> None:
    for pattern in TALIB_FUNCTIONS.values():
        assert issubclass(pattern, Indicator)
        assert repr(pattern()).startswith(pattern.__name__ + "(")


def test_memory_stays_bounded() -> None:
    for pattern in TALIB_FUNCTIONS.values():
        instance = pattern()
        for index in range(200):
            instance.update(10.0 + index % 3, 11.0 + index % 3, 9.0, 10.5)
        assert len(instance._candles) <= pattern.lookback + 2  # noqa: SLF001
