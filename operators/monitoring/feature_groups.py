"""Which feature group each feature belongs to, and which features no drift monitor should watch.

Alarms are raised per feature group (the modules of ``operators.features.groups``): a desk
investigates "liquidity moved on IBM", not 48 separate features. The configured indicators
(TA-Lib functions declared in the feature settings) form one group of their own, and so do the
depth features of a symbol with an order book (``order_book``).

Unwatched features, and why:

- price levels (``last_price``, ``mid``, ``microprice``, ``vwap_1m``, ``spread`` and ``atr_1m``
  in dollars, the MACD lines in dollars): they trend with the market, so any reference they
  are compared with goes stale; their scale-free versions (``spread_bps``, ``atr_bps_1m``,
  ``vwap_deviation_1m``, ``percentage_price_oscillator_1m``) are watched instead;
- discrete event codes (candle patterns, the last trade's sign, the last mid move, the
  Hilbert trend mode, ``book_valid``): a mean and standard deviation do not describe them (a
  book's gaps are events of their own, ``book_gap``).

>>> group_of("spread_bps"), group_of("rsi_1m"), group_of("adx_14_1m"), group_of("mlofi_l1")
('quotes_and_trades', 'minute_indicators', 'configured_indicators', 'order_book')
"""

from __future__ import annotations

from operators.book.features import DEPTH_FEATURES
from operators.features.groups import CORE_GROUPS

__all__ = ["BOOK_GROUP", "INDICATOR_GROUP", "UNWATCHED", "group_of"]

INDICATOR_GROUP = "configured_indicators"
BOOK_GROUP = "order_book"

PRICE_LEVELS = ("last_price", "mid", "microprice", "spread", "vwap_1m", "atr_1m", "macd_1m", "macd_signal_1m",
                "macd_histogram_1m")
EVENT_CODES = ("last_trade_sign", "last_mid_move", "hilbert_trend_mode_1m", "candle_engulfing_1m",
               "candle_doji_1m", "candle_hammer_1m", "book_valid")
UNWATCHED: tuple[str, ...] = PRICE_LEVELS + EVENT_CODES

_GROUP_OF = {**{name: group.__module__.rsplit(".", 1)[-1] for group in CORE_GROUPS for name in group.names},
             **{name: BOOK_GROUP for name in DEPTH_FEATURES}}


def group_of(feature: str) -> str:
    """The group of a core feature (its module's name) or depth feature; any other is a configured indicator."""
    return _GROUP_OF.get(feature, INDICATOR_GROUP)
