"""Bill Williams' momentum tools: ``talib.AO``, ``talib.AC`` and ``talib.FRACTAL``.

The awesome oscillator is ``SMA(median, fastperiod) - SMA(median, slowperiod)`` of the median
price ``(high + low) / 2``; the accelerator oscillator is ``AO - SMA(AO, signalperiod)``. The
averages are TA-Lib-ordered running sums (:class:`SimpleMovingAverage`), O(1) per update.

A fractal marks the bar ``rightbars`` back as a swing high when its high is strictly above the
highs of the ``leftbars`` bars before it and the ``rightbars`` bars after it (a swing low: its low
strictly below theirs); the output is 100 at the bar that confirms it, else 0. TA-Lib returns
integers here, so there is no NaN: like TA-Lib, the outputs are 0 during the warm-up too, and
``ready`` says when a fractal can first be confirmed. Ties kept in a monotonic deque make the
strictness check O(1) amortised.

>>> awesome = AwesomeOscillator(fastperiod=2, slowperiod=3)
>>> for high, low in [(11.0, 9.0), (12.0, 10.0), (14.0, 12.0)]:
...     awesome.update(high, low)
>>> round(awesome.value, 6)
0.666667
"""

from __future__ import annotations

from collections import deque

from operators.ta.base import NAN, Indicator, MultiOutputIndicator, Period
from operators.ta.indicators.overlap import SimpleMovingAverage
from operators.ta.state import FlatState


class AwesomeOscillator(Indicator):
    """``talib.AO``: fast minus slow simple average of the median price."""

    __slots__ = ("fastperiod", "slowperiod", "_fast", "_slow")
    inputs = ("high", "low")
    parameters = (Period("fastperiod", 5, minimum=2), Period("slowperiod", 34, minimum=2))

    def _reset(self) -> None:
        super()._reset()
        self._fast = SimpleMovingAverage(timeperiod=self.fastperiod)
        self._slow = SimpleMovingAverage(timeperiod=self.slowperiod)

    def _awesome(self, high: float, low: float) -> float:
        """Feed one bar's median price; fast minus slow once both are ready, else NaN."""
        median = (high + low) / 2.0
        fast = self._fast
        slow = self._slow
        fast.update(median)
        slow.update(median)
        return fast.value - slow.value if fast.ready and slow.ready else NAN

    def update(self, high: float, low: float) -> None:
        self._value = self._awesome(high, low)


class AcceleratorOscillator(AwesomeOscillator):
    """``talib.AC``: the awesome oscillator minus its ``signalperiod`` simple average.

    >>> accelerator = AcceleratorOscillator(fastperiod=2, slowperiod=3, signalperiod=2)
    >>> for high, low in [(11.0, 9.0), (12.0, 10.0), (14.0, 12.0), (13.0, 11.0)]:
    ...     accelerator.update(high, low)
    >>> round(accelerator.value, 6)
    -0.083333
    """

    __slots__ = ("signalperiod", "_signal")
    parameters = AwesomeOscillator.parameters + (Period("signalperiod", 5, minimum=2),)

    def _reset(self) -> None:
        super()._reset()
        self._signal = SimpleMovingAverage(timeperiod=self.signalperiod)

    def update(self, high: float, low: float) -> None:
        awesome = self._awesome(high, low)
        if awesome != awesome:
            return
        signal = self._signal
        signal.update(awesome)
        if signal.ready:
            self._value = awesome - signal.value


class _StrictExtreme(FlatState):
    """Window of ``span`` values; says whether the value ``offset`` bars back is its unique
    maximum (``highest=True``) or minimum. Equal values stay in the deque, so a tie is seen."""

    __slots__ = ("span", "highest", "_candidates", "_bars")

    def __init__(self, span: int, highest: bool) -> None:
        self.span = span
        self.highest = highest
        self._candidates: deque[tuple[int, float]] = deque()
        self._bars = 0

    def update(self, value: float) -> None:
        candidates = self._candidates
        if self.highest:
            while candidates and candidates[-1][1] < value:
                candidates.pop()
        else:
            while candidates and candidates[-1][1] > value:
                candidates.pop()
        candidates.append((self._bars, value))
        self._bars += 1
        if candidates[0][0] <= self._bars - 1 - self.span:
            candidates.popleft()

    @property
    def bars(self) -> int:
        return self._bars

    def is_unique_extreme(self, offset: int) -> bool:
        candidates = self._candidates
        if candidates[0][0] != self._bars - 1 - offset:
            return False
        return len(candidates) == 1 or candidates[1][1] != candidates[0][1]


class Fractal(MultiOutputIndicator):
    """``talib.FRACTAL``: ``(swinghigh, swinglow)``, 100 on the bar confirming one, else 0.

    >>> fractal = Fractal(leftbars=1, rightbars=1)
    >>> for high, low in [(10.0, 9.0), (12.0, 8.0), (11.0, 8.5)]:
    ...     fractal.update(high, low)
    >>> fractal.values
    (100.0, 100.0)
    """

    __slots__ = ("leftbars", "rightbars", "_highs", "_lows")
    inputs = ("high", "low")
    outputs = ("swinghigh", "swinglow")
    parameters = (Period("leftbars", 2), Period("rightbars", 2))

    def _reset(self) -> None:
        span = self.leftbars + self.rightbars + 1
        self._highs = _StrictExtreme(span, highest=True)
        self._lows = _StrictExtreme(span, highest=False)
        self._values = (0.0, 0.0)

    @property
    def ready(self) -> bool:
        return self._highs.bars > self.leftbars + self.rightbars

    def update(self, high: float, low: float) -> None:
        self._highs.update(high)
        self._lows.update(low)
        if not self.ready:
            return
        rightbars = self.rightbars
        swing_high = 100.0 if self._highs.is_unique_extreme(rightbars) else 0.0
        swing_low = 100.0 if self._lows.is_unique_extreme(rightbars) else 0.0
        self._values = (swing_high, swing_low)


TALIB_FUNCTIONS: dict[str, type] = {
    "AO": AwesomeOscillator,
    "AC": AcceleratorOscillator,
    "FRACTAL": Fractal,
}
