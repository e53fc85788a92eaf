"""Find a model directory from what the user typed: a path, or "default".

"default" is ``models/default/`` inside the installed package (shipped as package data and
trained on the real tick days with ``tickwise train``). An MLflow alias resolver belongs here
too when the registry lands.
"""

from __future__ import annotations

from pathlib import Path

from models.manifest import MANIFEST_FILE

DEFAULT_MODEL_DIR = Path(__file__).resolve().parent / "default"


def resolve_model_dir(spec: str) -> Path:
    """Return the model directory named by ``spec`` ("default" or a path); raise if it holds no manifest."""
    if spec == "default":
        if not (DEFAULT_MODEL_DIR / MANIFEST_FILE).is_file():
            raise FileNotFoundError(
                f"the default model is not shipped yet ({DEFAULT_MODEL_DIR} has no {MANIFEST_FILE}); "
                "train one with `tickwise train` or pass a model directory"
            )
        return DEFAULT_MODEL_DIR
    path = Path(spec).expanduser().resolve()
    if not path.is_dir():
        raise FileNotFoundError(f"model directory {spec!r} does not exist")
    if not (path / MANIFEST_FILE).is_file():
        raise FileNotFoundError(f"model directory {spec!r} has no {MANIFEST_FILE}")
    return path
