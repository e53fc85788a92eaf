"""The portfolio risk engine: one ordered chain of checks over every prediction.

``PortfolioRiskEngine`` holds the whole book (it runs on one key, ``"portfolio"``) and must
be fed in event-time order (``operators.risk.ordering``). Market contexts update marks,
the VaR return model and the drawdown; control commands switch the trading state at once;
every prediction gets exactly one ``Decision``. The chain (first denial wins):

1. input: ``invalid_prediction`` (NaN/inf/out-of-domain values);
2. instrument: ``not_in_universe``; state: ``halted``;
3. model: ``unknown_model_version``, ``unhealthy_model``, ``no_direction``,
   ``below_min_confidence``, ``stale_prediction`` (older than the portfolio clock by more than
   the allowed age);
4. instrument: ``restricted_symbol``, ``no_market_data``, ``stale_market_data``,
   ``price_collar`` (order price vs the mid / last trade);
5. portfolio: ``reducing_only`` (REDUCING state and the order does not reduce the position);
   sizing cut to max order quantity/notional, then ``max_position``, ``gross_exposure``,
   ``net_exposure`` when no whole share is left under the limit, ``zero_size`` when the
   risk-sized order rounds to 0 shares;
6. cost: ``below_expected_cost`` when the sized order's expected move does not cover its
   half spread, fee and impact (``operators.risk.costs``);
7. portfolio: ``var_limit`` when the order would raise portfolio VaR above the maximum;
8. execution: ``duplicate_signal`` (id already decided, or same direction as the symbol's
   last accepted signal within the window), ``order_rate`` (throttle per symbol per window).

An accepted order is booked with the paper book's cost model, from the engine's own inputs:
at the quote it crosses (the symbol's latest mid +/- half its spread; a symbol without quotes
at its last trade +/- ``trade_half_spread_bps``) plus ``fee_bps`` of the notional. Equity =
account equity + cash + sum(position x mark), marked to mid (else last trade), so the
drawdown includes what trading cost, as the paper P&L does. A drawdown from the equity peak
of ``reduce_drawdown`` switches the state to REDUCING and ``halt_drawdown`` to HALTED; both
latch until a ``resume`` command.

>>> from operators.messages import MarketContext, Prediction
>>> engine = PortfolioRiskEngine(RiskLimits(universe=("IBM",)))
>>> engine.on_market(MarketContext("IBM", 1_000, 0, 1, 185.0, 185.0, 0.02, 0.1, 0.5))
>>> decision = engine.decide(Prediction("p", "IBM", 1_000, 0, 1, 185.0, "v1", 0.8, 1, 0.6, 0.002, "trend", 0.6, {}))
>>> decision.accepted, decision.reason, decision.size
(True, 'accepted', 1351.0)
>>> engine.on_control(ControlCommand("halt", reason="desk kill switch"))
>>> engine.decide(Prediction("q", "IBM", 2_000, 0, 2, 185.0, "v1", 0.2, -1, 0.6, 0.002, "trend", 0.6, {})).reason
'halted'
"""

from __future__ import annotations

import math

from operators.messages.ids import stable_id
from operators.messages import ControlCommand, Decision, MarketContext, Prediction
from operators.risk.checks import (check_confidence, check_direction, check_market_data, check_model_version,
                                   check_prediction, check_prediction_age, check_price_collar, check_restricted,
                                   check_universe, reference_price)
from operators.risk.costs import check_expected_cost
from operators.risk.execution import DuplicateFilter, OrderThrottle
from operators.risk.limits import RiskLimits
from operators.risk.sizing import order_room, risk_sized_shares
from operators.risk.var import ReturnModel
from operators.risk.verdict import PASS, Verdict, deny

__all__ = ["ControlCommand", "PortfolioRiskEngine", "RiskLimits"]

_SEVERITY = {"ACTIVE": 0, "REDUCING": 1, "HALTED": 2}
_COMMAND_STATE = {"halt": "HALTED", "reduce": "REDUCING", "resume": "ACTIVE"}
_ROUNDING_RETRIES = 3
_BPS = 1e-4


class PortfolioRiskEngine:
    """Portfolio state (positions, marks, VaR model, drawdown, throttles) and the check chain."""

    def __init__(self, limits: RiskLimits) -> None:
        if not isinstance(limits, RiskLimits):
            raise TypeError(f"PortfolioRiskEngine needs RiskLimits, got {type(limits).__name__}")
        self.limits = limits
        self._reset()

    def _reset(self) -> None:
        limits = self.limits
        self.manual_state: str = limits.trading_state
        self.drawdown_state = "ACTIVE"
        self.positions: dict[str, float] = {}
        self.cash = 0.0
        self.marks: dict[str, float] = {}
        self.market: dict[str, MarketContext] = {}
        self.clock_ns = 0
        self.peak_equity = limits.account_equity
        self.returns = ReturnModel(sorted(limits.universe), limits.ewma_lambda, limits.var_window,
                                   limits.var_min_observations, limits.var_prior_volatility)
        self.throttle = OrderThrottle(limits.max_orders_per_window, limits.throttle_window_ns)
        self.duplicates = DuplicateFilter(limits.duplicate_window_ns, limits.duplicate_memory)
        self.accepted = 0
        self.denied = 0

    # -- state -------------------------------------------------------------------------------

    @property
    def trading_state(self) -> str:
        manual, drawdown = self.manual_state, self.drawdown_state
        return manual if _SEVERITY[manual] >= _SEVERITY[drawdown] else drawdown

    def equity(self) -> float:
        value = sum(shares * self.marks.get(symbol, 0.0) for symbol, shares in self.positions.items())
        return self.limits.account_equity + self.cash + value

    def exposures(self) -> tuple[float, float]:
        """(gross, net) dollar exposure at the current marks."""
        values = [shares * self.marks.get(symbol, 0.0) for symbol, shares in self.positions.items()]
        return sum(abs(v) for v in values), sum(values)

    def dollars(self, overrides: dict[str, float] | None = None) -> list[float]:
        positions = {**self.positions, **(overrides or {})}
        return [positions.get(symbol, 0.0) * self.marks.get(symbol, 0.0) for symbol in self.returns.symbols]

    def var(self, overrides: dict[str, float] | None = None) -> float:
        return self.returns.var(self.dollars(overrides), self.limits.var_confidence)

    def risk_score(self) -> float:
        """The portfolio risk score: VaR as a fraction of the maximum, in [0, 1]."""
        return min(1.0, self.var() / self.limits.max_var)

    # -- inputs ------------------------------------------------------------------------------

    def on_market(self, context: MarketContext) -> None:
        """A symbol's market at a feature row: mark, VaR sample, drawdown (universe symbols only)."""
        if context.symbol not in self.limits.universe:
            return
        self.clock_ns = max(self.clock_ns, context.ts_ns)
        mark = reference_price(context)
        if 0.0 < mark < math.inf:
            self.marks[context.symbol] = mark
        self.market[context.symbol] = context
        self.returns.observe(self.clock_ns // self.limits.var_interval_ns, self.marks)
        self._update_drawdown()

    def booking_cost(self, symbol: str, direction: int, size: float, price: float) -> float:
        """Cash paid for ``direction x size`` shares: at the quote crossed (mid +/- half the spread,
        else the last trade +/- ``trade_half_spread_bps``; ``price`` when the symbol has neither)
        plus the fee. The same costs as the paper book's fills, known when the order is decided."""
        limits = self.limits
        context = self.market.get(symbol)
        fill = price
        if context is not None:
            if 0.0 < context.mid < math.inf and 0.0 <= context.spread < math.inf:
                fill = context.mid + direction * 0.5 * context.spread
            elif 0.0 < context.price < math.inf:
                fill = context.price * (1.0 + direction * limits.trade_half_spread_bps * _BPS)
        return direction * size * fill + size * fill * limits.fee_bps * _BPS

    def on_control(self, command: ControlCommand) -> None:
        """The kill switch: takes effect for every decision after it (no event-time wait)."""
        self.manual_state = _COMMAND_STATE[command.command]
        if command.command == "resume":
            self.drawdown_state = "ACTIVE"
            self.peak_equity = self.equity()

    def _update_drawdown(self) -> None:
        equity = self.equity()
        self.peak_equity = max(self.peak_equity, equity)
        drawdown = (self.peak_equity - equity) / self.peak_equity if self.peak_equity > 0.0 else 1.0
        limits = self.limits
        if not drawdown < limits.halt_drawdown:
            self.drawdown_state = "HALTED"
        elif not drawdown < limits.reduce_drawdown and self.drawdown_state == "ACTIVE":
            self.drawdown_state = "REDUCING"

    # -- the chain ---------------------------------------------------------------------------

    def decide(self, prediction: Prediction) -> Decision:
        """One decision for ``prediction``; never raises on bad values."""
        if prediction.symbol not in self.limits.universe:
            # Outside the universe: decided without touching any state (these items are not ordered).
            return self._outside_universe(prediction)
        if isinstance(prediction.ts_ns, int):
            self.clock_ns = max(self.clock_ns, prediction.ts_ns)
        position = self.positions.get(prediction.symbol, 0.0)
        score = self.risk_score()
        verdict, size = self._evaluate(prediction, position, score)
        self.duplicates.remember(_signal_id(prediction))
        if verdict.accepted:
            signed = prediction.direction * size
            self.positions[prediction.symbol] = position + signed
            self.cash -= self.booking_cost(prediction.symbol, prediction.direction, size, prediction.price)
            self.throttle.record(prediction.symbol, prediction.ts_ns)
            self.duplicates.record(_signal_id(prediction), prediction.symbol, prediction.direction, prediction.ts_ns)
            self.accepted += 1
        else:
            size = 0.0
            self.denied += 1
        gross, net = self.exposures()
        after = self.positions.get(prediction.symbol, 0.0)
        valid = verdict.reason != "invalid_prediction"
        return Decision(
            signal_id=_signal_id(prediction), symbol=prediction.symbol, ts_ns=prediction.ts_ns,
            partition=prediction.partition, offset=prediction.offset, model_version=prediction.model_version,
            direction=prediction.direction, size=size,
            notional=size * prediction.price if verdict.accepted else 0.0,
            price=prediction.price, confidence=prediction.confidence, regime=prediction.regime,
            accepted=verdict.accepted, reason=verdict.reason, trading_state=self.trading_state,
            position_after=after, level=verdict.level, detail=verdict.detail, risk_score=score,
            var=self.var() if valid else 0.0, gross_exposure=gross, net_exposure=net,
        )

    def _outside_universe(self, prediction: Prediction) -> Decision:
        verdict = check_prediction(prediction)
        if verdict.accepted:
            verdict = check_universe(self.limits, prediction.symbol)
        return Decision(
            signal_id=_signal_id(prediction), symbol=prediction.symbol, ts_ns=prediction.ts_ns,
            partition=prediction.partition, offset=prediction.offset, model_version=prediction.model_version,
            direction=prediction.direction, size=0.0, notional=0.0, price=prediction.price,
            confidence=prediction.confidence, regime=prediction.regime, accepted=False, reason=verdict.reason,
            trading_state=self.trading_state, position_after=0.0, level=verdict.level, detail=verdict.detail,
        )

    def _evaluate(self, prediction: Prediction, position: float, score: float) -> tuple[Verdict, float]:
        limits = self.limits
        symbol = prediction.symbol
        verdict = check_prediction(prediction)
        if not verdict.accepted:
            return verdict, 0.0
        state = self.trading_state
        if state == "HALTED":
            return deny("state", "halted", "trading state is HALTED"), 0.0
        context = self.market.get(symbol)
        for verdict in (
            check_model_version(limits, prediction.model_version),
            check_direction(prediction.direction),
            check_confidence(limits, prediction.confidence),
            check_prediction_age(limits, prediction.ts_ns, self.clock_ns),
            check_restricted(limits, symbol),
            check_market_data(limits, context, prediction.ts_ns),
        ):
            if not verdict.accepted:
                return verdict, 0.0
        price = prediction.price
        verdict = check_price_collar(limits, price, reference_price(context))  # type: ignore[arg-type]
        if not verdict.accepted:
            return verdict, 0.0
        direction = prediction.direction
        reducing = state == "REDUCING"
        if reducing and not direction * position < 0.0:
            return deny("portfolio", "reducing_only", f"state is REDUCING and {symbol} position {position:g} "
                        f"would not shrink with direction {direction}"), 0.0
        verdict, size = self._size(prediction, position, score, reducing)
        if verdict.accepted:
            verdict = check_expected_cost(limits, prediction.p_up, prediction.volatility, direction, context,
                                          size * price)
        if not verdict.accepted:
            return verdict, 0.0
        var_before = self.var()
        var_after = self.var({symbol: position + direction * size})
        if not (var_after <= limits.max_var or var_after <= var_before):
            return deny("portfolio", "var_limit", f"portfolio VaR would be {var_after:,.0f} > max "
                        f"{limits.max_var:,.0f} (now {var_before:,.0f})"), 0.0
        duplicate = self.duplicates.is_duplicate(_signal_id(prediction), symbol, direction, prediction.ts_ns)
        if duplicate is not None:
            return deny("execution", "duplicate_signal", duplicate), 0.0
        if not self.throttle.allows(symbol, prediction.ts_ns):
            return deny("execution", "order_rate", f"{symbol}: {limits.max_orders_per_window} orders already in "
                        f"{limits.throttle_window_ns / 1e9:g} s"), 0.0
        return PASS, size

    def _size(self, prediction: Prediction, position: float, score: float, reducing: bool) -> tuple[Verdict, float]:
        limits = self.limits
        price = prediction.price
        direction = prediction.direction
        gross, net = self.exposures()
        net += position * (price - self.marks.get(prediction.symbol, price))  # this symbol at the order price
        gross += abs(position) * (price - self.marks.get(prediction.symbol, price))
        rooms = order_room(position=position, direction=direction, price=price, gross=gross, net=net,
                           max_shares=limits.max_position_shares, max_notional=limits.max_position_notional,
                           max_gross=limits.max_gross_exposure, max_net=limits.max_net_exposure)
        for reason, room in rooms.items():
            if not room >= 1.0:
                return deny("instrument" if reason == "max_position" else "portfolio", reason,
                            f"no whole share of room left under {reason} for {prediction.symbol} "
                            f"(room {room:.3f} shares)"), 0.0
        edge = 2.0 * prediction.confidence - 1.0  # |2 p_up - 1|
        wanted = risk_sized_shares(limits.account_equity, limits.risk_per_trade, edge, score, price,
                                   prediction.volatility, limits.volatility_floor)
        size = float(math.floor(min(wanted, limits.max_order_quantity, limits.max_order_notional / price,
                                    *rooms.values())))
        if reducing:
            size = min(size, abs(position))
        for _ in range(_ROUNDING_RETRIES):
            if size <= 0.0 or self._within_limits(position, direction, size, price, gross, net):
                break
            size = max(0.0, size - 1.0)
        else:
            size = 0.0
        if not size >= 1.0:
            return deny("sizing", "zero_size", f"risk-sized order for {prediction.symbol} rounds to 0 shares"), 0.0
        return PASS, size

    def _within_limits(self, position: float, direction: int, size: float, price: float, gross: float,
                       net: float) -> bool:
        """Exact check of the sized order against every limit, guarding against float rounding."""
        limits = self.limits
        if size > limits.max_order_quantity or size * price > limits.max_order_notional:
            return False
        after = position + direction * size
        position_ok = abs(after) <= abs(position) or (
            abs(after) <= limits.max_position_shares and abs(after) * price <= limits.max_position_notional)
        gross_after = gross - abs(position) * price + abs(after) * price
        net_after = net + direction * size * price
        gross_ok = gross_after <= max(gross, limits.max_gross_exposure)
        net_ok = abs(net_after) <= max(abs(net), limits.max_net_exposure)
        return position_ok and gross_ok and net_ok


def _signal_id(prediction: Prediction) -> str:
    return stable_id(prediction.symbol, prediction.partition, prediction.offset, prediction.model_version)
