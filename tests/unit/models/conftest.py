"""Session fixtures of the model tests: the synthetic features table and one ensemble trained on it."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from models.train import TrainedEnsemble, fit_ensemble, save_ensemble

from .builders import TEST_CONFIG, TEST_HORIZONS, synthetic_frame

__all__ = ["TEST_CONFIG", "TEST_HORIZONS", "synthetic_frame"]  # still imported from here by the integration tests


@pytest.fixture(scope="session")
def frame() -> pd.DataFrame:
    return synthetic_frame()


@pytest.fixture(scope="session")
def fitted(frame: pd.DataFrame) -> TrainedEnsemble:
    return fit_ensemble(frame, TEST_CONFIG)


@pytest.fixture(scope="session")
def trained(fitted: TrainedEnsemble, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out_dir = tmp_path_factory.mktemp("ensemble")
    manifest = save_ensemble(fitted, out_dir, TEST_CONFIG)
    return out_dir, manifest
