"""Plant, one at a time, the eight bugs a person would see that the suite once let through,
each in a copy of the working tree, and run the tests that must catch it. Not part of the test
run: `python tests/replant_known_bugs.py [NAME...]` prints, per bug, the tests that failed;
every bug must fail at least one.
"""

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent
MNIST = os.environ.get("LENET_DRAW_MNIST") or str(SRC.parent / "shared" / "data" / "mnist")
PLANTS = [
    (
        "bars 3<->5",
        "lenet_draw/gui/bars.py",
        "            v = float(probs[i])\n            if i == top and region",
        "            v = float(probs[{3: 5, 5: 3}.get(i, i)])\n            if i == top and region",
        ["tests/gui/test_what_is_seen.py", "-k", "bars or drawn"],
    ),
    (
        "big digit +1",
        "lenet_draw/gui/bars.py",
        'return f"{self.digit} or {self.runner_up[0]}?" if self.runner_up else f"{self.digit}?"\n'
        "        return str(self.digit)",
        'return f"{self.digit + 1} or {self.runner_up[0]}?" if self.runner_up else f"{self.digit + 1}?"\n'
        "        return str(self.digit + 1)",
        ["tests/gui/test_what_is_seen.py", "-k", "bars or drawn"],
    ),
    (
        "cropped tile shows fitted",
        "lenet_draw/gui/stages.py",
        "tile.set_array(getattr(stages, key),",
        'tile.set_array(getattr(stages, "fitted" if key == "cropped" else key),',
        ["tests/gui/test_what_is_seen.py", "-k", "stage"],
    ),
    (
        "inverted greys",
        "lenet_draw/gui/stages.py",
        "a = np.ascontiguousarray((np.clip(arr, 0.0, 1.0) * 255.0 + 0.5)",
        "a = np.ascontiguousarray(((1.0 - np.clip(arr, 0.0, 1.0)) * 255.0 + 0.5)",
        ["tests/gui/test_what_is_seen.py", "-k", "stage"],
    ),
    (
        "output not normalised",
        "lenet_draw/gui/featuremaps.py",
        'symmetric_auto=(name == "output"),',
        "symmetric_auto=False,",
        ["tests/gui/test_what_is_seen.py", "-k", "colour"],
    ),
    (
        "mirrored activations",
        "lenet_draw/engine.py",
        "                logits, acts = self._model.forward_with_activations(x)\n                probs = torch.softmax(logits.float(), dim=1)",
        "                logits, acts = self._model.forward_with_activations(x.flip(-1))\n                probs = torch.softmax(self._model(x).float(), dim=1)",
        ["tests/core/test_activations.py", "tests/gui/test_what_is_seen.py", "-k", "layer or softmax or colour"],
    ),
    (
        "unsure line moved down (0.7)",
        "lenet_draw/spec.py",
        "UNSURE_BELOW = 0.85",
        "UNSURE_BELOW = 0.7",
        [
            "tests/core/test_unsure.py",
            "tests/gui/test_what_is_seen.py",
            "tests/gui/test_gui_drawing.py",
            "-k",
            "eighty_five or probabilities or unsure_state",
        ],
    ),
    (
        "unsure line moved up (0.95)",
        "lenet_draw/spec.py",
        "UNSURE_BELOW = 0.85",
        "UNSURE_BELOW = 0.95",
        [
            "tests/core/test_unsure.py",
            "tests/gui/test_what_is_seen.py",
            "tests/gui/test_gui_drawing.py",
            "-k",
            "eighty_five or probabilities or unsure_state",
        ],
    ),
    (
        "centring +0.4 px",
        "lenet_draw/preprocess.py",
        "offset=(CENTRE - com[0], CENTRE - com[1])",
        "offset=(CENTRE - com[0] + 0.4, CENTRE - com[1] + 0.4)",
        ["tests/core/test_preprocess.py"],
    ),
]


def main(only: list[str]) -> int:
    missed = []
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=SRC, capture_output=True, text=True)
    for name, path, old, new, tests in PLANTS:
        if only and not any(o in name for o in only):
            continue
        with tempfile.TemporaryDirectory(prefix="replant-") as dst:
            for rel in files.stdout.splitlines():
                if (SRC / rel).is_file():
                    (Path(dst) / rel).parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(SRC / rel, Path(dst) / rel)
            target = Path(dst) / path
            text = target.read_text()
            assert text.count(old) == 1, f"{name}: the code to change is no longer there once in {path}"
            target.write_text(text.replace(old, new))
            env = dict(os.environ, PYTHONPATH=dst, QT_QPA_PLATFORM="offscreen", LENET_DRAW_MNIST=MNIST)
            cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *tests]
            r = subprocess.run(cmd, cwd=dst, env=env, capture_output=True, text=True)
        failed = [ln.split(" - ")[0].removeprefix("FAILED ") for ln in r.stdout.splitlines() if ln.startswith("FAILED")]
        print(f"## {name}: {r.stdout.strip().splitlines()[-1] if r.stdout.strip() else r.stderr[-300:]}")
        for ln in failed:
            print("   ", ln)
        if not failed:
            missed.append(name)
        sys.stdout.flush()
    if missed:
        print("not caught:", ", ".join(missed))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
