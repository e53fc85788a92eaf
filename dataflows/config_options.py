"""Settings of the options step: the rate curve and dividend yield every chain is priced with.

A section of ``dataflows.config.Settings`` (``settings.options``); it reads

- ``TICKWISE_OPTIONS_RATES_FILE`` (LEAN's ``interest-rate.csv`` of the shared options data): the
  risk-free curve in LEAN's form, a header then ``YYYY-MM-DD,percent`` rows
  (``dataflows.optionfiles.read_interest_rates``); read when the first chain is built, so a flow
  without option messages never needs it. A path that is set and does not exist is refused at
  start-up;
- ``TICKWISE_OPTIONS_DIVIDEND_YIELD`` (``0.0``): the continuous dividend yield, ``[0, 1)``;
- ``TICKWISE_OPTIONS_JOIN`` (off): the per-symbol feature step also takes the option messages and
  every feature row leaves with its underlying's chain features as of the last closed minute
  (``operators.options.join``; ``opt_*`` names, feature set ``<hash>+options1``).

>>> OptionsSection(dividend_yield=0.015).dividend_yield
0.015
>>> try:
...     OptionsSection(rates_file="no/such/file.csv")
... except ValueError as error:
...     "expected an existing interest-rate CSV" in str(error)
True
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["DEFAULT_RATES_FILE", "OptionsSection"]

#: LEAN's rate curve, next to the shared option files (``../shared/data/options/lean``).
DEFAULT_RATES_FILE = Path(__file__).resolve().parents[2] / "shared" / "data" / "options" / "lean" / "interest-rate.csv"


class OptionsSection(BaseSettings):
    """The rate curve file and dividend yield of the options step."""

    model_config = SettingsConfigDict(frozen=True, populate_by_name=True, extra="ignore")

    rates_file: Path = Field(DEFAULT_RATES_FILE, alias="TICKWISE_OPTIONS_RATES_FILE")
    dividend_yield: float = Field(0.0, alias="TICKWISE_OPTIONS_DIVIDEND_YIELD", ge=0.0, lt=1.0)
    join: bool = Field(False, alias="TICKWISE_OPTIONS_JOIN")

    @field_validator("rates_file")
    @classmethod
    def _existing(cls, value: Path) -> Path:
        if value != DEFAULT_RATES_FILE and not value.is_file():
            raise ValueError("expected an existing interest-rate CSV (a header, then YYYY-MM-DD,percent rows), "
                             f"got {str(value)!r}")
        return value
