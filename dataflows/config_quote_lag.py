"""Settings of the quote lag: how much earlier a quote must be stamped to count at a trade.

Some venues publish the quote change a trade caused before the trade itself, so the quote in
effect "at" a trade's timestamp is already the one after it, and the quote rule then calls
buys sells and sells buys. Classifying against the quote in effect some milliseconds earlier
undoes that (``operators.features.groups.quotes_and_trades``). A section of
``dataflows.config.Settings`` (``settings.quote_lag``); it reads

- ``TICKWISE_QUOTE_LAG_MS`` (0): the lag of every symbol, in milliseconds;
- ``TICKWISE_QUOTE_LAG_MS_BY_PREFIX`` (empty): ``PREFIX=MS`` pairs such as ``BTC=50,ETH=50``
  that override it for the symbols starting with ``PREFIX``; the longest matching prefix wins.

The lag changes feature values, so it is part of the feature-set version; with no overrides
the features hash as they always did (``FeatureConfig.quote_lag_ns``).

>>> section = QuoteLagSection(lag_ms=0, by_prefix="ETH=50, BTC=2.5")
>>> section.by_prefix, section.feature_quote_lag()
('BTC=2.5,ETH=50', (('', 0), ('BTC', 2500000), ('ETH', 50000000)))
>>> QuoteLagSection().feature_quote_lag()
0
"""

from __future__ import annotations

import math

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["MAX_QUOTE_LAG_MS", "QuoteLagSection"]

MAX_QUOTE_LAG_MS = 60_000.0  # a minute: anything longer is a unit mistake, not a venue's latency
_EXAMPLE = "PREFIX=MILLISECONDS pairs such as BTC=50,ETH=50"


def _ns(milliseconds: float) -> int:
    return round(milliseconds * 1_000_000)


def _pair(piece: str) -> tuple[str, float]:
    prefix, sep, text = (part.strip() for part in piece.partition("="))
    try:
        milliseconds = float(text)
    except ValueError:
        milliseconds = math.nan
    if not sep or not prefix or any(c.isspace() for c in prefix) or not 0.0 <= milliseconds <= MAX_QUOTE_LAG_MS:
        raise ValueError(f"expected {_EXAMPLE}, each lag from 0 to {MAX_QUOTE_LAG_MS:g} ms, got {piece!r}")
    return prefix, milliseconds


class QuoteLagSection(BaseSettings):
    """The quote lag of every symbol and its per-prefix overrides, in milliseconds."""

    model_config = SettingsConfigDict(frozen=True, populate_by_name=True, extra="ignore")

    lag_ms: float = Field(0.0, ge=0, le=MAX_QUOTE_LAG_MS, alias="TICKWISE_QUOTE_LAG_MS")
    by_prefix: str = Field("", alias="TICKWISE_QUOTE_LAG_MS_BY_PREFIX")  # normalised: sorted PREFIX=MS pairs

    @field_validator("by_prefix")
    @classmethod
    def _prefix_pairs(cls, value: str) -> str:
        pairs = [_pair(piece) for piece in value.split(",") if piece.strip()]
        prefixes = [prefix for prefix, _ in pairs]
        repeated = sorted({prefix for prefix in prefixes if prefixes.count(prefix) > 1})
        if repeated:
            raise ValueError(f"expected each prefix once ({', '.join(repeated)} repeats), got {value!r}")
        return ",".join(f"{prefix}={milliseconds:g}" for prefix, milliseconds in sorted(pairs))

    def prefix_lags_ns(self) -> tuple[tuple[str, int], ...]:
        return tuple((prefix, _ns(float(text))) for prefix, _, text in
                     (piece.partition("=") for piece in self.by_prefix.split(",") if piece))

    def feature_quote_lag(self) -> int | tuple[tuple[str, int], ...]:
        """``FeatureConfig.quote_lag_ns``: one lag, or ("", lag) and the per-prefix lags."""
        overrides = self.prefix_lags_ns()
        return (("", _ns(self.lag_ms)), *overrides) if overrides else _ns(self.lag_ms)
