"""The one place that finds bundled files, installed, editable or frozen alike."""

from __future__ import annotations

import sys
from pathlib import Path

BUNDLED_WEIGHTS = "lenet5.pt"


def resources_dir() -> Path:
    """The folder holding the bundled weights and icons.

    Frozen (PyInstaller): ``<bundle>/resources``. Installed from a wheel:
    ``site-packages/lenet_draw/resources``. Editable install or source checkout:
    ``<project>/resources``.
    """
    here = Path(__file__).resolve().parent
    candidates = []
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:
        candidates.append(Path(frozen_root) / "resources")
    candidates += [here / "resources", here.parent / "resources"]
    for c in candidates:
        if (c / BUNDLED_WEIGHTS).is_file():
            return c
    for c in candidates:
        if c.is_dir():
            return c
    raise FileNotFoundError("lenet-draw's resources folder is missing; looked in " + ", ".join(map(str, candidates)))


def resource_path(name: str) -> Path:
    return resources_dir() / name


def bundled_weights_path() -> Path:
    return resource_path(BUNDLED_WEIGHTS)
