"""Settings of the trading-session filter: which ticks reach the features, the model and risk.

Ticks outside their symbol's session (``operators.ingest.session``) are still validated and stored
in the ``ticks`` table, but they update no feature, so they make no prediction and no signal; the
per-symbol step counts them (``tickwise_stage_items_total{stage="outside_session"}``). A section
of ``dataflows.config.Settings`` (``settings.session``); it reads

- ``TICKWISE_SESSION`` (``regular``): the session of every symbol, ``regular`` (09:30-16:00
  New York, Monday to Friday), ``extended`` (04:00-20:00) or ``all`` (no filter);
- ``TICKWISE_SESSION_BY_PREFIX`` (``BINANCE=all,BTC=all,ETH=all,HYPERLIQUID=all,XBT=all``):
  ``PREFIX=SESSION`` pairs that override it for the symbols starting with ``PREFIX`` (crypto
  venues trade around the clock, and the depth captures' symbols name their venue); the
  longest matching prefix wins, so ``ETHE=regular`` keeps an equity that starts like a coin in the
  regular session. Empty: every symbol trades in ``TICKWISE_SESSION``.

>>> section = SessionSection(session="extended", by_prefix="SOL=all, BTC=all")
>>> section.by_prefix, section.config().session_name("SOL-USD"), section.config().session_name("IBM")
('BTC=all,SOL=all', 'all', 'extended')
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from operators.ingest.session import SESSION_NAMES, SessionConfig

__all__ = ["DEFAULT_SESSION_BY_PREFIX", "SessionSection"]

#: Crypto venues' coins, open around the clock.
DEFAULT_SESSION_BY_PREFIX = "BINANCE=all,BTC=all,ETH=all,HYPERLIQUID=all,XBT=all"
_EXAMPLE = "PREFIX=SESSION pairs such as BTC=all,ETH=all"


def _pair(piece: str) -> tuple[str, str]:
    prefix, sep, name = (part.strip() for part in piece.partition("="))
    if not sep or not prefix or any(c.isspace() for c in prefix) or name not in SESSION_NAMES:
        raise ValueError(f"expected {_EXAMPLE}, each session one of {', '.join(SESSION_NAMES)}, got {piece!r}")
    return prefix, name


def _pairs(text: str) -> list[tuple[str, str]]:
    return [_pair(piece) for piece in text.split(",") if piece.strip()]


class SessionSection(BaseSettings):
    """The trading session of every symbol and its per-prefix overrides."""

    model_config = SettingsConfigDict(frozen=True, populate_by_name=True, extra="ignore")

    session: Literal["regular", "extended", "all"] = Field("regular", alias="TICKWISE_SESSION")
    by_prefix: str = Field(DEFAULT_SESSION_BY_PREFIX, alias="TICKWISE_SESSION_BY_PREFIX")  # normalised, sorted

    @field_validator("by_prefix")
    @classmethod
    def _prefix_pairs(cls, value: str) -> str:
        pairs = _pairs(value)
        prefixes = [prefix for prefix, _ in pairs]
        repeated = sorted({prefix for prefix in prefixes if prefixes.count(prefix) > 1})
        if repeated:
            raise ValueError(f"expected each prefix once ({', '.join(repeated)} repeats), got {value!r}")
        return ",".join(f"{prefix}={name}" for prefix, name in sorted(pairs))

    def config(self) -> SessionConfig:
        """The per-symbol step's ``SessionConfig``."""
        return SessionConfig(default=self.session, by_prefix=tuple(_pairs(self.by_prefix)))
