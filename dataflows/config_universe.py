"""Settings of the symbol universe: when a symbol is reported as rejecting, and when it is idle.

A section of ``dataflows.config.Settings`` (``settings.universe``), kept in its own module so the
settings module stays small. It reads

- ``TICKWISE_SYMBOL_REJECT_SHARE`` (0.5): the share of a symbol's latest judged ticks that, once
  rejected, counts the symbol in ``tickwise_symbols_over_reject_share``;
- ``TICKWISE_SYMBOL_REJECT_WINDOW`` (200): how many of its latest ticks that share is taken over;
- ``TICKWISE_SYMBOL_IDLE_S`` (7 days, 0 = never): a symbol whose clock jumps further than this in
  event time starts fresh, and a live run releases the state of a symbol it has not seen for this
  long (see ``dataflows.symbol_step``).
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from operators.ingest.reject_share import RejectShareConfig

__all__ = ["UniverseSection"]

_NANOSECONDS = 1_000_000_000


class UniverseSection(BaseSettings):
    """Per-symbol reject share (threshold, window) and the idle time after which a symbol starts fresh."""

    model_config = SettingsConfigDict(frozen=True, populate_by_name=True, extra="ignore")

    reject_share: float = Field(0.5, gt=0, le=1, alias="TICKWISE_SYMBOL_REJECT_SHARE")
    reject_window: int = Field(200, ge=1, le=1_000_000, alias="TICKWISE_SYMBOL_REJECT_WINDOW")
    idle_s: float = Field(7 * 86_400.0, ge=0, alias="TICKWISE_SYMBOL_IDLE_S")  # 0: never idle

    @property
    def idle_ns(self) -> int:
        return int(self.idle_s * _NANOSECONDS)

    def reject_share_config(self) -> RejectShareConfig:
        return RejectShareConfig(threshold=self.reject_share, window=self.reject_window)
