"""Print every module the packaged app loads at run time, as JSON.

Runs what the packaged app does without a screen: builds the engine with the bundled weights,
reads strokes and an image, opens weights files (.pt, .safetensors, and broken ones, so the
error paths count too), predicts as the `predict` command does, and imports the GUI. (`train`,
`eval` and `bench` are left to a Python install: lenet_draw.training and lenet_draw.bench are
not bundled.) The spec turns the list into hidden imports and checks that nothing it
excludes is among them, so a torch upgrade that starts importing an excluded part at run
time fails the build instead of the app.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def exercise() -> None:
    import numpy as np
    import torch  # noqa: F401  (first, as in packaging/entry.py)
    from PIL import Image

    from lenet_draw import cli, devices
    from lenet_draw.engine import Engine
    from lenet_draw.selftest import builtin_drawings
    from lenet_draw.weights import WeightsError, save_weights

    devices.available_devices()
    engine = Engine(None, device="cpu")
    for d in builtin_drawings():
        engine.predict_strokes([list(s) for s in d.strokes])
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        pred = engine.predict_strokes([list(s) for s in builtin_drawings()[0].strokes])
        Image.fromarray((pred.stages.centred * 255).astype(np.uint8)).save(t / "digit.png")
        with Image.open(t / "digit.png") as im:
            engine.predict_image(im)
        w = engine.weights
        for name in ("w.pt", "w.safetensors"):
            save_weights(t / name, w.state_dict, w.convention, w.meta)
            engine.load(t / name)
        good = (t / "w.pt").read_bytes()
        broken = {
            "cut.pt": good[: len(good) // 3],
            "junk.pt": b"\x80" + os.urandom(300),
            "zip.pt": b"PK" + os.urandom(300),
            "junk.safetensors": os.urandom(300),
            "empty.pt": b"",
        }
        for name, data in broken.items():
            (t / name).write_bytes(data)
            try:
                engine.load(t / name)
            except WeightsError:
                pass
        torch.save({"model": torch.nn.Linear(2, 2)}, t / "pickled.pt")  # refused: holds a Python object
        try:
            engine.load(t / "pickled.pt")
        except WeightsError:
            pass
        cli.main(["predict", str(t / "digit.png"), "--device", "cpu"])
    from lenet_draw.gui import app, main_window  # noqa: F401


def main() -> int:
    import contextlib
    import io
    import json

    with contextlib.redirect_stdout(io.StringIO()):
        exercise()
    loaded = sorted(sys.modules)

    # modules backed by a file: the ones a hidden import can name (torch.ops, torch._C._nn and
    # the like are made at run time by torch itself)
    def real(name: str) -> bool:
        spec = getattr(sys.modules[name], "__spec__", None)
        return spec is not None and (
            spec.origin not in (None, "built-in", "frozen") or bool(spec.submodule_search_locations)
        )

    files = [m for m in loaded if real(m)]
    json.dump({"modules": loaded, "files": files}, sys.stdout, indent=0)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
