"""The stateless checks of the chain: input validity, model risk and instrument risk.

Each function takes the limits and what it needs and returns a ``Verdict`` (``PASS`` or a
denial with a reason code); none raises on bad input. Comparisons are written as "accept
only inside the bounds", so NaN and inf always fail.

>>> from operators.risk.limits import RiskLimits
>>> limits = RiskLimits(min_confidence=0.6)
>>> check_confidence(limits, 0.55).reason, check_confidence(limits, float("nan")).reason
('below_min_confidence', 'below_min_confidence')
>>> check_price_collar(limits, 101.5, 100.0).reason, check_price_collar(limits, 100.5, 100.0).accepted
('price_collar', True)
"""

from __future__ import annotations

import math

from operators.messages import MarketContext, Prediction
from operators.risk.limits import RiskLimits
from operators.risk.verdict import PASS, Verdict, deny

__all__ = [
    "check_confidence", "check_direction", "check_market_data", "check_model_version", "check_prediction",
    "check_prediction_age", "check_price_collar", "check_restricted", "check_universe",
]

SECOND_NS = 1_000_000_000


def check_prediction(prediction: Prediction) -> Verdict:
    """Every number must be finite and inside its domain (NaN/inf are always denied)."""
    direction = prediction.direction
    ok = (
        0.0 < prediction.price < math.inf
        and 0.0 <= prediction.confidence <= 1.0
        and 0.0 <= prediction.volatility < math.inf
        and 0.0 <= prediction.p_up <= 1.0
        and math.isfinite(prediction.score)
        and not isinstance(direction, bool)
        and direction in (-1, 0, 1)
        and isinstance(prediction.ts_ns, int) and prediction.ts_ns >= 0
    )
    if ok:
        return PASS
    return deny("input", "invalid_prediction",
                f"prediction {prediction.prediction_id} has a value out of bounds (price {prediction.price!r}, "
                f"confidence {prediction.confidence!r}, volatility {prediction.volatility!r}, p_up "
                f"{prediction.p_up!r}, score {prediction.score!r}, direction {direction!r})")


def check_universe(limits: RiskLimits, symbol: str) -> Verdict:
    if symbol in limits.universe:
        return PASS
    return deny("instrument", "not_in_universe", f"{symbol} is not in the traded universe {limits.universe}")


def check_model_version(limits: RiskLimits, version: str) -> Verdict:
    if limits.known_model_versions and version not in limits.known_model_versions:
        return deny("model", "unknown_model_version", f"model version {version!r} is not a known version")
    if version in limits.unhealthy_model_versions:
        return deny("model", "unhealthy_model", f"model version {version!r} has an open model_review/retrain event")
    return PASS


def check_direction(direction: int) -> Verdict:
    return PASS if direction != 0 else deny("model", "no_direction", "the model has no direction (0)")


def check_confidence(limits: RiskLimits, confidence: float) -> Verdict:
    """Confidence is the probability of the predicted class, max(p_up, 1 - p_up) in [0.5, 1]."""
    if limits.min_confidence <= confidence <= 1.0:
        return PASS
    return deny("model", "below_min_confidence", f"confidence {confidence!r} < minimum {limits.min_confidence}")


def check_prediction_age(limits: RiskLimits, prediction_ts_ns: int, clock_ns: int) -> Verdict:
    """The prediction against the portfolio's event time (the latest event time processed)."""
    age = clock_ns - prediction_ts_ns
    if age <= limits.max_prediction_age_ns:
        return PASS
    return deny("model", "stale_prediction",
                f"prediction is {age / SECOND_NS:.3f} s older than the portfolio clock "
                f"(max {limits.max_prediction_age_ns / SECOND_NS:g} s)")


def check_restricted(limits: RiskLimits, symbol: str) -> Verdict:
    if symbol not in limits.restricted_symbols:
        return PASS
    return deny("instrument", "restricted_symbol", f"{symbol} is on the restricted list")


def market_data_age_ns(context: MarketContext, ts_ns: int) -> float:
    """Event time since the freshest quote or trade of the symbol (inf when none is known)."""
    ages = [age for age in (context.quote_age_s, context.trade_age_s) if 0.0 <= age < math.inf]
    if not ages:
        return math.inf
    return min(ages) * SECOND_NS + max(0, ts_ns - context.ts_ns)


def check_market_data(limits: RiskLimits, context: MarketContext | None, ts_ns: int) -> Verdict:
    if context is None:
        return deny("instrument", "no_market_data", "no market data seen yet for the symbol")
    age = market_data_age_ns(context, ts_ns)
    if age <= limits.max_data_age_ns:
        return PASS
    return deny("instrument", "stale_market_data",
                f"{context.symbol}: latest quote/trade is {age / SECOND_NS:.1f} s old "
                f"(max {limits.max_data_age_ns / SECOND_NS:g} s)")


def reference_price(context: MarketContext) -> float:
    """Mid when the symbol has a quote, else the last trade."""
    return context.mid if 0.0 < context.mid < math.inf else context.price


def check_price_collar(limits: RiskLimits, price: float, reference: float) -> Verdict:
    """Fat-finger guard: the order price within ``price_collar_bps`` of the mid / last trade."""
    if 0.0 < reference < math.inf and 0.0 < price < math.inf:
        distance_bps = abs(price / reference - 1.0) * 1e4
        if distance_bps <= limits.price_collar_bps:
            return PASS
    else:
        distance_bps = math.nan
    return deny("instrument", "price_collar",
                f"order price {price!r} is {distance_bps:.1f} bps from the reference {reference!r} "
                f"(collar {limits.price_collar_bps:g} bps)")
