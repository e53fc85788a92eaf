"""Pre-trade risk check: size each prediction and accept or deny it with a reason.

``RiskCheck.decide(state, prediction)`` is a pure step over one symbol's small
``RiskState``. Like NautilusTrader's risk engine it never raises on a bad signal: every
prediction gets exactly one ``Decision``, accepted or denied, with a reason code. The
checks run in order and the first failure wins:

1. ``halted``: the trading state is HALTED.
2. ``invalid_prediction``: price, confidence, volatility, p_up or score is not finite,
   price <= 0, confidence outside [0, 1], volatility < 0 or direction not in {-1, 0, 1}.
   (``specialists`` are informational inputs of the meta model and are not checked.)
3. ``no_direction``: direction is 0.
4. ``below_min_confidence``: confidence < ``min_confidence``.
5. ``reducing_only``: the state is REDUCING and the order would not reduce |position|.
6. ``max_position``: no whole share of room is left under ``max_position_shares`` and
   ``max_position_notional`` in the order's direction.
7. ``zero_size``: the sized order rounds down to 0 shares.

Otherwise the decision is ``accepted``. Sizing follows the seed model: dollar risk =
equity x risk_per_trade x confidence x (1 - portfolio_risk); shares = floor(dollar risk /
(price x max(volatility, volatility_floor))), then cut to ``max_order_notional``, to the
room left under both position limits and, when REDUCING, to the size that flattens.

>>> check = RiskCheck(RiskConfig())
>>> prediction = Prediction("p-41", "IBM", 1_381_239_000_010_000_000, 0, 41, 185.0, "v3",
...                         0.6, 1, 0.2, 0.002, "trend", 0.2, {})
>>> state, decision = check.decide(None, prediction)
>>> decision.accepted, decision.reason, decision.size, decision.notional, decision.position_after
(True, 'accepted', 1351.0, 249935.0, 1351.0)
>>> state
RiskState(position_shares=1351.0, signals_accepted=1, signals_denied=0)
>>> RiskCheck(RiskConfig(trading_state="HALTED")).decide(state, prediction)[1].reason
'halted'
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import get_args

from operators.ids import stable_id
from operators.messages import Decision, Prediction, TradingState

__all__ = ["REASONS", "RiskCheck", "RiskConfig", "RiskState"]

ACCEPTED = "accepted"
REASONS = (
    "halted",
    "invalid_prediction",
    "no_direction",
    "below_min_confidence",
    "reducing_only",
    "max_position",
    "zero_size",
    ACCEPTED,
)
_TRADING_STATES: tuple[str, ...] = get_args(TradingState)
_ROUNDING_RETRIES = 3


@dataclass(frozen=True, slots=True)
class RiskConfig:
    """Limits and sizing settings of the risk check; validated on construction.

    >>> RiskConfig(risk_per_trade=1.5)
    Traceback (most recent call last):
    ...
    ValueError: RiskConfig.risk_per_trade must be a finite number in (0, 1], got 1.5
    """

    account_equity: float = 1_000_000.0
    risk_per_trade: float = 0.02
    portfolio_risk: float = 0.0
    min_confidence: float = 0.05
    max_position_shares: float = 10_000.0
    max_position_notional: float = 1_000_000.0
    max_order_notional: float = 250_000.0
    volatility_floor: float = 1e-4
    trading_state: TradingState = "ACTIVE"

    def __post_init__(self) -> None:
        for name in (
            "account_equity",
            "max_position_shares",
            "max_position_notional",
            "max_order_notional",
            "volatility_floor",
        ):
            value = getattr(self, name)
            if not (_is_number(value) and 0.0 < value < math.inf):
                raise ValueError(f"RiskConfig.{name} must be a finite number > 0, got {value!r}")
        if not (_is_number(self.risk_per_trade) and 0.0 < self.risk_per_trade <= 1.0):
            raise ValueError(
                f"RiskConfig.risk_per_trade must be a finite number in (0, 1], got {self.risk_per_trade!r}"
            )
        for name in ("portfolio_risk", "min_confidence"):
            value = getattr(self, name)
            if not (_is_number(value) and 0.0 <= value <= 1.0):
                raise ValueError(f"RiskConfig.{name} must be a finite number in [0, 1], got {value!r}")
        if self.trading_state not in _TRADING_STATES:
            raise ValueError(f"RiskConfig.trading_state must be one of {_TRADING_STATES}, got {self.trading_state!r}")


@dataclass(frozen=True, slots=True)
class RiskState:
    """One symbol's risk state: the signed position in shares and decision counters.

    >>> RiskState(position_shares=float("nan"))
    Traceback (most recent call last):
    ...
    ValueError: RiskState.position_shares must be a finite number, got nan
    """

    position_shares: float = 0.0
    signals_accepted: int = 0
    signals_denied: int = 0

    def __post_init__(self) -> None:
        if not _is_number(self.position_shares):
            raise ValueError(f"RiskState.position_shares must be a finite number, got {self.position_shares!r}")
        for name in ("signals_accepted", "signals_denied"):
            value = getattr(self, name)
            if type(value) is not int or value < 0:
                raise ValueError(f"RiskState.{name} must be an int >= 0, got {value!r}")


class RiskCheck:
    """Sizes predictions and applies the ordered pre-trade checks of ``RiskConfig``."""

    __slots__ = ("_config",)

    def __init__(self, config: RiskConfig) -> None:
        if not isinstance(config, RiskConfig):
            raise TypeError(f"RiskCheck needs a RiskConfig, got {type(config).__name__}")
        self._config = config

    @property
    def config(self) -> RiskConfig:
        return self._config

    def decide(self, state: RiskState | None, prediction: Prediction) -> tuple[RiskState, Decision]:
        """Return the symbol's next state and the decision on ``prediction``; never raises."""
        state = state if state is not None else RiskState()
        position = state.position_shares
        reason, size = self._evaluate(position, prediction)
        accepted = reason == ACCEPTED
        if accepted:
            position_after = position + prediction.direction * size
            next_state = RiskState(position_after, state.signals_accepted + 1, state.signals_denied)
        else:
            size = 0.0
            position_after = position
            next_state = RiskState(position, state.signals_accepted, state.signals_denied + 1)
        decision = Decision(
            signal_id=stable_id(prediction.symbol, prediction.partition, prediction.offset, prediction.model_version),
            symbol=prediction.symbol,
            ts_ns=prediction.ts_ns,
            partition=prediction.partition,
            offset=prediction.offset,
            model_version=prediction.model_version,
            direction=prediction.direction,
            size=size,
            notional=size * prediction.price if accepted else 0.0,
            price=prediction.price,
            confidence=prediction.confidence,
            regime=prediction.regime,
            accepted=accepted,
            reason=reason,
            trading_state=self._config.trading_state,
            position_after=position_after,
        )
        return next_state, decision

    def _evaluate(self, position: float, prediction: Prediction) -> tuple[str, float]:
        config = self._config
        if config.trading_state == "HALTED":
            return "halted", 0.0
        if not _is_valid(prediction):
            return "invalid_prediction", 0.0
        direction = prediction.direction
        if direction == 0:
            return "no_direction", 0.0
        if not config.min_confidence <= prediction.confidence:
            return "below_min_confidence", 0.0
        reducing = config.trading_state == "REDUCING"
        if reducing and not direction * position < 0.0:
            return "reducing_only", 0.0
        price = prediction.price
        position_limit = min(config.max_position_shares, config.max_position_notional / price)
        room = position_limit - direction * position
        if not room >= 1.0:
            return "max_position", 0.0
        size = float(math.floor(min(self._risk_sized_shares(prediction), config.max_order_notional / price, room)))
        if reducing:
            size = min(size, abs(position))
        for _ in range(_ROUNDING_RETRIES):
            if size <= 0.0 or self._within_limits(position, direction, size, price):
                break
            size = max(0.0, math.ceil(size) - 1.0)
        else:
            size = 0.0
        if not size > 0.0:
            return "zero_size", 0.0
        return ACCEPTED, size

    def _risk_sized_shares(self, prediction: Prediction) -> float:
        """Shares before limits (not yet rounded; ``inf`` if price x volatility underflows)."""
        config = self._config
        dollar_risk = (
            config.account_equity * config.risk_per_trade * prediction.confidence * (1.0 - config.portfolio_risk)
        )
        risk_per_share = prediction.price * max(prediction.volatility, config.volatility_floor)
        return dollar_risk / risk_per_share if risk_per_share > 0.0 else math.inf

    def _within_limits(self, position: float, direction: int, size: float, price: float) -> bool:
        """Exact check of the order against the limits, guarding against float rounding."""
        config = self._config
        if size * price > config.max_order_notional:
            return False
        after = abs(position + direction * size)
        if after < abs(position):
            return True
        return after <= config.max_position_shares and after * price <= config.max_position_notional


def _is_valid(prediction: Prediction) -> bool:
    return (
        0.0 < prediction.price < math.inf
        and 0.0 <= prediction.confidence <= 1.0
        and 0.0 <= prediction.volatility < math.inf
        and math.isfinite(prediction.p_up)
        and math.isfinite(prediction.score)
        and prediction.direction in (-1, 0, 1)
        and not isinstance(prediction.direction, bool)
    )


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
