"""The configured indicators: any catalogue function as a feature, declared by an ``IndicatorFeature``.

A spec names a TA-Lib function of the streaming catalogue, its parameters, which output, which
bars feed it (1 s or 1 min) and how its value is made scale free
(:mod:`operators.features.feature_set`). :func:`resolve_indicators` checks the specs once and
gives the classes and output positions; :class:`ConfiguredIndicators` runs them on completed
bars. A snapshot holds each indicator packed into one flat tuple
(:class:`operators.ta.packed.PackedState`), not its tree of objects.

>>> from operators.features.feature_set import IndicatorFeature
>>> specs = (IndicatorFeature("roc_1_1m", "ROC", (("timeperiod", 1),)),)
>>> group = ConfiguredIndicators(specs, *resolve_indicators(specs))
>>> for close in [8.0, 10.0]:
...     _ = group.on_bar(Bar(0, 0, close, close, close, close, 1.0, close, 1, 0.0, 0.0), MINUTE_BAR)
>>> group.names, group.values(0)
(('roc_1_1m',), (25.0,))
"""

from __future__ import annotations

from operators.features.bars import Bar
from operators.features.feature_set import IndicatorFeature
from operators.features.groups.base import MINUTE_BAR, NAN, SECOND_BAR, finite
from operators.ta.base import Indicator
from operators.ta.indicators.catalogue import indicator_class
from operators.ta.packed import PackedState

ResolvedIndicators = tuple[tuple[type, ...], tuple[int, ...], tuple[int, ...]]

#: Each spec tuple's packers, by the tuple's identity: every symbol of a flow shares its config's
#: specs, and hashing 24 specs would cost more than restoring them (the tuple is kept, so its id stays).
_PACKERS: dict[int, tuple[tuple[IndicatorFeature, ...], tuple[PackedState, ...]]] = {}


def resolve_indicators(specs: tuple[IndicatorFeature, ...]) -> ResolvedIndicators:
    """The classes, output positions and bar sources of ``specs`` (one clear error for a bad spec)."""
    classes, outputs, sources = [], [], []
    for spec in specs:
        indicator = indicator_class(spec.function)
        if "periods" in indicator.inputs:
            raise ValueError(f"feature {spec.name}: {spec.function} needs a periods series, which bars do not have")
        if spec.output is not None and spec.output not in indicator.outputs:
            raise ValueError(f"feature {spec.name}: {spec.function} has outputs {', '.join(indicator.outputs)}, "
                             f"not {spec.output!r}")
        try:
            indicator(**spec.parameters)
        except TypeError as error:
            raise ValueError(f"feature {spec.name}: bad parameters for {spec.function}: {error}") from None
        classes.append(indicator)
        outputs.append(0 if spec.output is None else indicator.outputs.index(spec.output))
        sources.append(MINUTE_BAR if spec.bars == "1m" else SECOND_BAR)
    return tuple(classes), tuple(outputs), tuple(sources)


def indicator_packers(specs: tuple[IndicatorFeature, ...]) -> tuple[PackedState, ...]:
    """A :class:`PackedState` per spec, made once per spec tuple from a freshly built indicator."""
    entry = _PACKERS.get(id(specs))
    if entry is None or entry[0] is not specs:
        packers = tuple(PackedState(indicator_class(spec.function)(**spec.parameters)) for spec in specs)
        entry = _PACKERS[id(specs)] = (specs, packers)
    return entry[1]


class ConfiguredIndicators:
    """The indicators of a feature set, fed with completed bars of their interval."""

    __slots__ = ("_specs", "_outputs", "_sources", "_packers", "_indicators", "_closes")

    def __init__(self, specs: tuple[IndicatorFeature, ...], classes: tuple[type, ...], outputs: tuple[int, ...],
                 sources: tuple[int, ...]) -> None:
        self._specs = specs
        self._outputs = outputs
        self._sources = sources
        self._packers = indicator_packers(specs)
        self._indicators = [indicator(**spec.parameters) for indicator, spec in zip(classes, specs)]
        self._closes = {SECOND_BAR: NAN, MINUTE_BAR: NAN}

    @classmethod
    def resumed(cls, specs: tuple[IndicatorFeature, ...], outputs: tuple[int, ...], sources: tuple[int, ...],
                learned: tuple[list[tuple | Indicator], dict[int, float]]) -> ConfiguredIndicators:
        """The group of ``specs`` with the indicators and closes that ``learned()`` gave (a restore)."""
        group = cls.__new__(cls)
        group._specs = specs
        group._outputs = outputs
        group._sources = sources
        group._packers = packers = indicator_packers(specs)
        states, group._closes = learned
        group._indicators = [packer.unpack(state) if type(state) is tuple else state
                             for packer, state in zip(packers, states)]
        return group

    def learned(self) -> tuple[list[tuple | Indicator], dict[int, float]]:
        """Each indicator packed (the indicator itself where it does not pack) and the latest closes,
        without the specs (which the feature config holds): what a pickle of the group alone stores (a
        symbol's snapshot packs the group with the rest of its tree, ``operators.features.symbol``)."""
        states: list[tuple | Indicator] = []
        for packer, indicator in zip(self._packers, self._indicators):
            packed = packer.pack(indicator)
            states.append(indicator if packed is None else packed)
        return states, self._closes

    def __reduce__(self) -> tuple[object, tuple]:
        return ConfiguredIndicators.resumed, (self._specs, self._outputs, self._sources, self.learned())

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(spec.name for spec in self._specs)

    @property
    def sources(self) -> tuple[int, ...]:
        return self._sources

    def on_bar(self, bar: Bar, source: int) -> bool:
        """Feed a completed bar to the indicators that run on bars of ``source``; True if there are any."""
        self._closes[source] = bar.close
        if source not in self._sources:
            return False
        fields = {"open": bar.open, "high": bar.high, "low": bar.low, "close": bar.close, "volume": bar.volume}
        for indicator, indicator_source in zip(self._indicators, self._sources):
            if indicator_source == source:
                indicator.update(*[fields[name] for name in indicator.inputs])
        return True

    def values(self, now_ns: int) -> tuple[float, ...]:
        """Each indicator's output, scaled as its spec says, NaN where not available (never inf)."""
        out = []
        for indicator, spec, output, source in zip(self._indicators, self._specs, self._outputs, self._sources):
            value = indicator.values[output]
            if spec.scale != "none":
                close = self._closes[source]
                if not close > 0.0:
                    value = NAN
                elif spec.scale == "relative_to_close":
                    value = value / close - 1.0
                else:
                    value = value / close * 1e4
            out.append(finite(value))
        return tuple(out)
