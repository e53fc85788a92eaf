"""The verdict every risk check returns, and the catalogue of reason codes.

A check never raises on a bad signal (NautilusTrader style): it returns ``PASS`` or a
denying ``Verdict`` naming the level (``model``, ``instrument``, ``portfolio``,
``execution``), a machine-readable reason code and one sentence of detail. The engine
stops at the first denial and records it on the ``Decision``.

>>> deny("model", "below_min_confidence", "confidence 0.51 < minimum 0.525")
Verdict(accepted=False, level='model', reason='below_min_confidence', detail='confidence 0.51 < minimum 0.525')
>>> PASS.accepted
True
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ACCEPTED", "PASS", "REASONS", "Verdict", "deny"]

ACCEPTED = "accepted"

# Reason codes in chain order (the first failing check wins), with the level that owns them.
REASONS: dict[str, str] = {
    "invalid_prediction": "input",
    "not_in_universe": "instrument",
    "halted": "state",
    "unknown_model_version": "model",
    "unhealthy_model": "model",
    "no_direction": "model",
    "below_min_confidence": "model",
    "stale_prediction": "model",
    "restricted_symbol": "instrument",
    "no_market_data": "instrument",
    "stale_market_data": "instrument",
    "price_collar": "instrument",
    "reducing_only": "portfolio",
    "max_position": "instrument",
    "gross_exposure": "portfolio",
    "net_exposure": "portfolio",
    "zero_size": "sizing",
    "below_expected_cost": "model",
    "var_limit": "portfolio",
    "duplicate_signal": "execution",
    "order_rate": "execution",
    ACCEPTED: "",
}


@dataclass(frozen=True, slots=True)
class Verdict:
    """One check's answer: accepted, or denied with the level, the reason code and why."""

    accepted: bool
    level: str = ""
    reason: str = ACCEPTED
    detail: str = ""


PASS = Verdict(True)


def deny(level: str, reason: str, detail: str) -> Verdict:
    if reason not in REASONS:
        raise ValueError(f"unknown risk reason code {reason!r}; add it to operators.risk.verdict.REASONS")
    return Verdict(False, level, reason, detail)
