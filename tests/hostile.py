"""Helpers for hostile-file tests: craft small files, and load them in a child process with
limits on memory and time, so a regression (a crash, a hang, memory filling up) fails the test
instead of killing pytest."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
#: Address space of the child: torch itself maps about 0.8 GB.
CHILD_MEMORY = 2 * 2**30
#: Each file gets this long (the machine may be busy); a hang is ended by an alarm.
PER_FILE_SECONDS = 30

_CHILD = r"""
import json, signal, sys
import importlib
# what opens each kind, and what it raises for a refusal (imported on first use: samples and
# stroke files need neither torch nor pillow, so their child starts in a fraction of a second)
OPEN = {"weights": ("lenet_draw.weights", "load_weights", "WeightsError"),
        "image": ("lenet_draw.images", "open_image", "ImageError"),
        "sample": ("lenet_draw.samples", "read_sample", "SampleError"),
        "samples": ("lenet_draw.samples", "import_samples", "SampleError"),
        "strokes": ("lenet_draw.stroke_file", "load_strokes", "StrokeFileError")}
for kind, path, seconds in json.loads(sys.argv[1]):
    module, fn, error = OPEN[kind]
    module = importlib.import_module(module)
    signal.setitimer(signal.ITIMER_REAL, seconds)  # no handler: the alarm ends the process
    try:
        got = getattr(module, fn)(path)
        out = {"outcome": "loaded"}
        if kind == "samples":  # (samples, one sentence per file skipped)
            out.update(samples=len(got[0]), problems=got[1][:3] + got[1][-2:])
    except getattr(module, error) as exc:
        out = {"outcome": "refused", "message": str(exc)}
    signal.setitimer(signal.ITIMER_REAL, 0)
    print(json.dumps(out), flush=True)
"""


def _limits() -> None:  # pragma: no cover - runs in the child
    resource.setrlimit(resource.RLIMIT_AS, (CHILD_MEMORY, CHILD_MEMORY))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def cli_in_child(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """``python -m lenet_draw ARGS`` in a child with the memory limit; ``timeout`` only ends a
    hang (start-up alone takes seconds on a busy machine)."""
    return subprocess.run(
        [sys.executable, "-m", "lenet_draw", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
        preexec_fn=_limits,
    )


def load_all_in_child(items: list[tuple[str, Path]], seconds: float = PER_FILE_SECONDS) -> list[dict]:
    """Open each (kind, path), kind "weights", "image", "sample", "samples" (a zip or folder to
    import) or "strokes", in a child process limited to
    CHILD_MEMORY of address space and ``seconds`` a file; one child for many files.

    Each result is {"outcome": "loaded"}, {"outcome": "refused", "message": ...} or, when
    the child died on that file (signal, alarm, memory, an unexpected exception),
    {"outcome": "died", "status": ..., "stderr": ...}; the files after it get a new child.
    """
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")
    results: list[dict] = []
    while len(results) < len(items):
        todo = [(k, str(p), seconds) for k, p in items[len(results) :]]
        proc = subprocess.run(
            [sys.executable, "-c", _CHILD, json.dumps(todo)],
            capture_output=True,
            text=True,
            timeout=seconds * len(todo) + 120,
            env=env,
            preexec_fn=_limits,
            start_new_session=True,
        )
        done = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
        results.extend(done)
        if proc.returncode != 0 and len(results) < len(items):
            results.append({"outcome": "died", "status": proc.returncode, "stderr": proc.stderr[-2000:]})
    return results


def load_in_child(path: Path, kind: str = "weights", seconds: float = PER_FILE_SECONDS) -> dict:
    return load_all_in_child([(kind, path)], seconds)[0]


def check_refused(result: dict, name: str, *words: str) -> str:
    """``result`` is a refusal in one sentence holding ``words``."""
    assert result["outcome"] != "died", f"opening {name} killed the process: {result}"
    assert result["outcome"] == "refused", f"{name} was accepted"
    msg = result["message"]
    assert msg and "\n" not in msg and msg.endswith(".") and len(msg) < 400, msg
    for w in words:
        assert w.lower() in msg.lower(), f"{w!r} not in {msg!r}"
    return msg


def assert_refused(path: Path, *words: str, kind: str = "weights") -> str:
    return check_refused(load_in_child(path, kind), path.name, *words)


def torch_zip(path: Path, pickle_bytes: bytes, storages: dict[str, bytes] | None = None, deflate: bool = False) -> Path:
    """A .pt in torch's zip layout whose data.pkl is ``pickle_bytes``."""
    mode = zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED
    with zipfile.ZipFile(path, "w", mode) as z:
        z.writestr("archive/data.pkl", pickle_bytes)
        z.writestr("archive/byteorder", "little")
        z.writestr("archive/version", "3\n")
        for key, raw in (storages or {}).items():
            z.writestr(f"archive/data/{key}", raw)
    return path
