"""Every streaming TA-Lib function of the library, by TA-Lib name.

Each family module (``operators.ta.indicators.*``, ``operators.ta.candles.*``) ends with a
``TALIB_FUNCTIONS`` mapping; this module gathers them. A name defined twice is an error.

>>> catalogue = talib_catalogue()
>>> catalogue["SMA"].outputs
('real',)
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import lru_cache

from operators.ta.base import Indicator

PACKAGES = ("operators.ta.indicators", "operators.ta.candles")


@lru_cache(maxsize=1)
def talib_catalogue() -> dict[str, type[Indicator]]:
    """Every family's ``TALIB_FUNCTIONS``, merged; ``RuntimeError`` if two classes claim one name."""
    found: dict[str, type[Indicator]] = {}
    for package_name in PACKAGES:
        package = importlib.import_module(package_name)
        for module_info in pkgutil.walk_packages(package.__path__, package_name + "."):
            functions = getattr(importlib.import_module(module_info.name), "TALIB_FUNCTIONS", None)
            if not isinstance(functions, dict):
                continue
            for name, indicator in functions.items():
                existing = found.get(name)
                if existing is not None and existing is not indicator:
                    raise RuntimeError(f"TA-Lib function {name} is defined twice: {existing!r} and {indicator!r}")
                found[name] = indicator
    return found


def indicator_class(name: str) -> type[Indicator]:
    """The streaming class of a TA-Lib function, or a one-sentence error."""
    catalogue = talib_catalogue()
    try:
        return catalogue[name]
    except KeyError:
        raise ValueError(f"no streaming implementation of TA-Lib function {name!r}; "
                         f"known: {len(catalogue)} functions") from None
