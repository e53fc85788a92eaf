"""``talib.QSTICK``: Chande's Qstick, the simple average of ``close - open`` over ``timeperiod`` bars.

The bodies of the window live in a bounded deque and their sum is kept running, updated in the
order TA-Lib's loop uses (add the new body, read the average, drop the oldest body), so the
values agree with TA-Lib's to the last bit rather than drifting apart.

>>> qstick = Qstick(timeperiod=2)
>>> for open_, close in [(10.0, 11.0), (11.0, 10.5), (10.5, 12.5)]:
...     qstick.update(open_, close)
>>> qstick.value
0.75
"""

from __future__ import annotations

from collections import deque

from operators.ta.base import Indicator, Period


class Qstick(Indicator):
    """Average candle body; NaN for the first ``timeperiod - 1`` bars."""

    __slots__ = ("timeperiod", "_bodies", "_sum")
    inputs = ("open", "close")
    parameters = (Period("timeperiod", 10),)

    def _reset(self) -> None:
        super()._reset()
        self._bodies: deque[float] = deque(maxlen=self.timeperiod)
        self._sum = 0.0

    def update(self, open: float, close: float) -> None:  # noqa: A002 - TA-Lib's input name
        body = close - open
        bodies = self._bodies
        bodies.append(body)
        self._sum += body
        if len(bodies) == self.timeperiod:
            self._value = self._sum / self.timeperiod
            self._sum -= bodies[0]


TALIB_FUNCTIONS: dict[str, type] = {"QSTICK": Qstick}
