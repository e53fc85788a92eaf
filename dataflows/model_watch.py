"""Live model swap: follow a registry alias and hand the scorer a fully loaded new ensemble.

The scorer asks ``ModelWatcher.poll()`` at each batch boundary. At most once every
``interval_s`` seconds of wall time (monotonic clock, injectable for tests) the watcher reads
which version the alias points at; when it moved, the watcher downloads that version, loads
it completely and checks its feature set *before* returning it, so the scorer swaps between
two batches and never scores with a half-loaded model. A version that cannot be used (wrong
feature set, broken files, registry unreachable) is logged with its reason and the flow keeps
scoring with the model it has; a refused version is not retried until the alias moves again.

A feature set is the base layout hash followed by the extensions the per-symbol step appends when a
join is on (``<hash>+events1+options1``: events first, then options). A model is accepted when its
base hash is the flow's and every extension it was trained with is one the flow computes: the scorer
picks a model's features by name, so extra columns are ignored, while a model trained with a join
needs it on.

Wall time is read here, in ``dataflows``: operators never read the clock.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from models.ensemble import Ensemble
from models.mlflow_registry import ModelRef, RegistryConfig, VersionInfo, download_version, get_version
from operators.events import EVENT_FEATURE_SET
from operators.options.join import OPTION_FEATURE_SET

logger = logging.getLogger("tickwise.model")


class FeatureSetMismatch(ValueError):
    """A model trained on other features than the flow computes; one sentence saying so."""


#: The setting that turns on the join behind each extension a flow can append to every row.
JOIN_SETTINGS: dict[str, str] = {EVENT_FEATURE_SET: "TICKWISE_EVENTS", OPTION_FEATURE_SET: "TICKWISE_OPTIONS_JOIN"}


def split_feature_set(feature_set: str) -> tuple[str, tuple[str, ...]]:
    """``(base hash, extensions)`` of a feature set, each extension with its ``+``.

    >>> split_feature_set("2cb0004afab549bb+events1+options1")
    ('2cb0004afab549bb', ('+events1', '+options1'))
    """
    base, *extensions = feature_set.split("+")
    return base, tuple(f"+{extension}" for extension in extensions)


def check_feature_set(ensemble: Ensemble, flow_feature_set: str, where: str = "") -> None:
    """Refuse ``ensemble`` unless the flow computes every feature its manifest's feature set names: the
    same base hash, and each extension of the model's (``+events1``, ...) among the flow's.

    A manifest without ``feature_set`` (models trained before the hash was recorded) is
    accepted: its features are matched by name, and missing ones are scored as missing.
    """
    trained_on = ensemble.manifest.get("feature_set")
    if not trained_on:
        return
    model_base, model_extensions = split_feature_set(trained_on)
    flow_base, flow_extensions = split_feature_set(flow_feature_set)
    if model_base != flow_base:
        raise FeatureSetMismatch(
            f"model {ensemble.version}{where} was trained on feature set {trained_on} but this flow computes "
            f"feature set {flow_feature_set}: retrain it with `tickwise train` on the same feature settings, "
            "or pick a model trained on them"
        )
    missing = [extension for extension in model_extensions if extension not in flow_extensions]
    if not missing:
        return
    settings = [JOIN_SETTINGS[extension] for extension in missing if extension in JOIN_SETTINGS]
    if len(settings) == len(missing):
        remedy = f"turn on {' and '.join(settings)} to score it"
    else:
        remedy = "retrain it with `tickwise train` on this flow's feature settings"
    raise FeatureSetMismatch(
        f"model {ensemble.version}{where} was trained on feature set {trained_on}, whose {' '.join(missing)} "
        f"features this flow (feature set {flow_feature_set}) does not compute: {remedy}, or pick a model "
        "trained without them"
    )


@dataclass(frozen=True)
class Swap:
    """A new ensemble, fully loaded and checked, and the registry version it came from."""

    ensemble: Ensemble
    registered: VersionInfo


class ModelWatcher:
    """Polls ``ref`` (a ``models:/NAME@ALIAS``) and returns a ``Swap`` when it points elsewhere."""

    def __init__(self, registry: RegistryConfig, ref: ModelRef, cache_dir: Path, current: VersionInfo,
                 flow_feature_set: str, interval_s: float, clock: Callable[[], float] = time.monotonic,
                 nthread: int = 1) -> None:
        if ref.alias is None:
            raise ValueError(f"ModelWatcher follows an alias (models:/NAME@ALIAS), got {ref.uri}")
        if interval_s <= 0:
            raise ValueError(f"ModelWatcher needs interval_s > 0, got {interval_s!r}")
        self._registry = registry
        self._ref = ref
        self._cache_dir = cache_dir
        self._flow_feature_set = flow_feature_set
        self._interval_s = interval_s
        self._clock = clock
        self._nthread = nthread
        self._current = current.version
        self._refused: str | None = None
        self._next_check = clock() + interval_s
        # Workers of one process share the scorer: one of them polls, the others go on scoring.
        self._lock = threading.Lock()

    @property
    def current_version(self) -> str:
        return self._current

    def poll(self) -> Swap | None:
        """A new, loaded ensemble if the alias moved since the last check, else None (cheap)."""
        if self._clock() < self._next_check or not self._lock.acquire(blocking=False):
            return None
        try:
            self._next_check = self._clock() + self._interval_s
            return self._check()
        finally:
            self._lock.release()

    def _check(self) -> Swap | None:
        try:
            info = get_version(self._registry, self._ref)
        except Exception as error:  # noqa: BLE001 - an unreachable registry must not stop scoring
            logger.warning("could not read %s (%s); still scoring with registry version %s",
                           self._ref.uri, error, self._current)
            return None
        if info.version in (self._current, self._refused):
            return None
        try:
            ensemble = Ensemble.load(download_version(self._registry, info, self._cache_dir), nthread=self._nthread)
            check_feature_set(ensemble, self._flow_feature_set, f" (registry version {info.version})")
        except Exception as error:  # noqa: BLE001 - a bad new version is refused, the old one keeps scoring
            self._refused = info.version
            logger.error("refused %s -> version %s: %s; still scoring with registry version %s",
                         self._ref.uri, info.version, error, self._current)
            return None
        logger.info("model swap: %s moved from registry version %s to %s (ensemble %s); "
                    "scoring with it from the next batch", self._ref.uri, self._current, info.version,
                    ensemble.version)
        self._current = info.version
        self._refused = None
        return Swap(ensemble, info)
