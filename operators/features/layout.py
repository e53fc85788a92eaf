"""What a ``FeatureConfig`` produces, and the registry that lets snapshots name a config by version.

A row holds the core groups' features (the last of them the order-flow features of the
microstructure model, :class:`operators.features.groups.order_flow.OrderFlowFeatures`), then
the configured indicators. A symbol that receives depth messages adds the depth features of its
rebuilt order book after them (:func:`depth_layout`, a feature-set version with an ``+l2.`` suffix).

:func:`feature_layout` gives the feature names (row groups, then configured indicators), the
input source of each, the resolved indicator classes and the feature-set version: the hash of
every definition and setting behind the values (:func:`operators.features.feature_set.feature_set_version`).

A recovery snapshot refers to its ``FeatureConfig`` by that version (:class:`ConfigReference`)
instead of pickling it into every key's state; :func:`register_config` makes a config resolvable.

>>> layout = feature_layout(FeatureConfig())
>>> layout.names[:2], len(layout.names) == len(layout.sources), len(layout.version)
(('last_price', 'mid'), True, 16)
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from functools import lru_cache

import orjson

from operators.book.features import HALF_LIFE_NS
from operators.book.tracker import DEPTH_FEATURES, FLOW_BOOK_CONFIG

from operators.features.config import FeatureConfig
from operators.features.feature_set import feature_set_version
from operators.features.groups import CORE_GROUPS, FeatureGroup, resolve_indicators
from operators.features.groups.base import SOURCE_NAMES

#: The groups of every row, in row order.
ROW_GROUPS: tuple[type[FeatureGroup], ...] = CORE_GROUPS
ROW_FEATURE_NAMES: tuple[str, ...] = tuple(name for group in ROW_GROUPS for name in group.names)
ROW_SOURCES: tuple[int, ...] = tuple(source for group in ROW_GROUPS for source in group.sources)


@dataclass(frozen=True)
class FeatureLayout:
    """Names, input sources and lineage hash of a feature config, and how to build its indicators."""

    names: tuple[str, ...]
    version: str
    sources: tuple[int, ...]
    indicator_classes: tuple[type, ...]
    indicator_outputs: tuple[int, ...]

    @property
    def indicator_sources(self) -> tuple[int, ...]:
        return self.sources[len(ROW_FEATURE_NAMES):]


#: Every row feature's definition as hashed: its group, its name and its input source.
ROW_DEFINITIONS: tuple[tuple[str, str, str], ...] = tuple(
    (group.__name__, name, SOURCE_NAMES[source])
    for group in ROW_GROUPS for name, source in zip(group.names, group.sources))


@lru_cache(maxsize=64)
def feature_layout(config: FeatureConfig) -> FeatureLayout:
    """The layout of ``config`` (one clear error for a bad indicator spec)."""
    classes, outputs, sources = resolve_indicators(config.indicators)
    settings = {key: value for key, value in asdict(config).items() if key != "indicators"}
    return FeatureLayout(names=ROW_FEATURE_NAMES + tuple(spec.name for spec in config.indicators),
                         version=feature_set_version(ROW_DEFINITIONS, settings, config.indicators),
                         sources=ROW_SOURCES + sources, indicator_classes=classes, indicator_outputs=outputs)


@lru_cache(maxsize=64)
def depth_layout(names: tuple[str, ...], version: str) -> tuple[tuple[str, ...], str]:
    """The names and feature-set version of a row with the depth features of a rebuilt order book
    (``operators.book``) after the ``names`` of feature set ``version``: ``<version>+l2.<hash>``,
    where the hash covers the depth features' names and their book's settings.

    >>> names, version = depth_layout(("mid",), "0123456789abcdef")
    >>> names[:2], version.startswith("0123456789abcdef+l2.")
    (('mid', 'depth_imbalance_l1'), True)
    """
    definition = orjson.dumps({"depth": DEPTH_FEATURES, "book": asdict(FLOW_BOOK_CONFIG),
                               "half_life_ns": HALF_LIFE_NS})
    return names + DEPTH_FEATURES, f"{version}+l2.{hashlib.blake2b(definition, digest_size=4).hexdigest()}"


def feature_names(config: FeatureConfig) -> tuple[str, ...]:
    return feature_layout(config).names


#: Feature configs seen in this process, by feature-set version: what a snapshot's
#: ``ConfigReference`` resolves to. ``SymbolLogicBuilder`` registers its config before it restores state.
_known_configs: dict[str, FeatureConfig] = {}


def register_config(config: FeatureConfig) -> str:
    """Make ``config`` resolvable by snapshots that name its version; returns the version."""
    version = feature_layout(config).version
    _known_configs.setdefault(version, config)
    return version


class ConfigReference(tuple):
    """A snapshot's reference to a ``FeatureConfig`` by feature-set version."""

    __slots__ = ()

    def __new__(cls, version: str) -> "ConfigReference":
        return super().__new__(cls, (version,))

    def __getnewargs__(self) -> tuple[str]:
        return (self[0],)

    def resolve(self) -> FeatureConfig:
        config = _known_configs.get(self[0])
        if config is None:
            raise ValueError(f"restoring SymbolFeatures: the snapshot was made with feature set {self[0]}, which this "
                             f"process does not know; build its FeatureConfig first (SymbolLogicBuilder does)")
        return config
