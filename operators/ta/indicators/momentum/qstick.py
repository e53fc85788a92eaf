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

import math
from collections import deque
from typing import ClassVar

from operators.ta.indicators.base import require_period


class Qstick:
    """Average candle body; NaN for the first ``timeperiod - 1`` bars."""

    __slots__ = ("timeperiod", "_bodies", "_sum", "_value")

    inputs: ClassVar[tuple[str, ...]] = ("open", "close")
    outputs: ClassVar[tuple[str, ...]] = ("real",)

    def __init__(self, timeperiod: int = 10) -> None:
        require_period("timeperiod", timeperiod)
        self.timeperiod = timeperiod
        self._reset()

    def _reset(self) -> None:
        self._bodies: deque[float] = deque(maxlen=self.timeperiod)
        self._sum = 0.0
        self._value = math.nan

    def reset(self) -> None:
        self._reset()

    @property
    def ready(self) -> bool:
        return len(self._bodies) == self.timeperiod

    @property
    def value(self) -> float:
        return self._value

    @property
    def values(self) -> tuple[float, ...]:
        return (self._value,)

    def update(self, open_: float, close: float) -> None:
        body = close - open_
        self._bodies.append(body)
        self._sum += body
        if len(self._bodies) == self.timeperiod:
            self._value = self._sum / self.timeperiod
            self._sum -= self._bodies[0]


TALIB_FUNCTIONS: dict[str, type] = {"QSTICK": Qstick}
