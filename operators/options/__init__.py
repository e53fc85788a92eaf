"""Options chains: contract identity, messages, implied volatility, greeks and the surface.

``contract``/``messages`` name a listed option and carry its quotes, trades and open interest;
``black`` (vectorised Black-Scholes-Merton and the implied-volatility solver) and ``american``
(CRR tree, de-Americanization) price it; ``chain`` keeps one underlying's latest state and
prices the whole chain as of an event time; ``surface`` turns that into per-expiry smile
figures and underlying features. Conventions are in ``docs/options.md``.
"""

from operators.options.contract import ContractError, OptionContract, contract, format_osi, parse_osi
from operators.options.messages import OptionMessage, OptionOpenInterest, OptionQuote, OptionTrade

__all__ = ["ContractError", "OptionContract", "OptionMessage", "OptionOpenInterest", "OptionQuote", "OptionTrade",
           "contract", "format_osi", "parse_osi"]
