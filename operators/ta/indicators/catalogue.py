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

PACKAGES = ("operators.ta.indicators", "operators.ta.candles")


@lru_cache(maxsize=1)
def talib_catalogue() -> dict[str, type]:
    found: dict[str, type] = {}
    for package_name in PACKAGES:
        try:
            package = importlib.import_module(package_name)
        except ModuleNotFoundError:
            continue
        modules = [package_name] + [info.name for info in pkgutil.walk_packages(package.__path__, package_name + ".")]
        for module_name in modules:
            module = importlib.import_module(module_name)
            functions = getattr(module, "TALIB_FUNCTIONS", None)
            if not isinstance(functions, dict) or module_name == package_name + ".__init__":
                continue
            for name, indicator in functions.items():
                existing = found.get(name)
                if existing is not None and existing is not indicator:
                    raise RuntimeError(f"TA-Lib function {name} is defined twice: {existing!r} and {indicator!r}")
                found[name] = indicator
    return found


def indicator_class(name: str) -> type:
    """The streaming class of a TA-Lib function, or a one-sentence error."""
    catalogue = talib_catalogue()
    try:
        return catalogue[name]
    except KeyError:
        raise ValueError(f"no streaming implementation of TA-Lib function {name!r}; "
                         f"known: {len(catalogue)} functions") from None
