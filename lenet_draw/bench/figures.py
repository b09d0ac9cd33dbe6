"""`lenet-draw bench`: the figures a live drawing app lives by, measured on this machine.

Every figure is repeated and reported as median and 99th percentile:
launch (process start to a window that takes strokes, and to the first prediction shown),
live update (one pointer move through preprocessing, inference and repaint), preprocessing
alone, inference alone, batch inference on the 10,000 MNIST test images (beside what a
perfect use of the CPU would give), training seconds per epoch with augmentation, and
resident memory after launch and after 10,000 strokes drawn and cleared.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from lenet_draw.bench.stats import summary_s

#: LeNet-5's multiply-adds for one image: C1 117,600 + C3 240,000 + C5 48,000 + F6 10,080 + output 840.
MACS_PER_IMAGE = 6 * 28 * 28 * 25 + 16 * 10 * 10 * 150 + 120 * 400 + 84 * 120 + 10 * 84


def _rss_mb() -> float:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:  # not Linux
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak / (2**20 if sys.platform == "darwin" else 2**10)


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _cpu_flags() -> set[str]:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def _cpu_ghz() -> float | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("cpu MHz"):
                return float(line.split(":", 1)[1]) / 1000
    except (OSError, ValueError):
        pass
    return None


def peak_macs_per_s() -> tuple[float | None, str]:
    """Fused multiply-adds per second if every core ran two FMA units on full vectors."""
    flags, ghz, cores = _cpu_flags(), _cpu_ghz(), os.cpu_count() or 1
    if not ghz:
        return None, "unknown clock"
    lanes = 16 if "avx512f" in flags else 8 if "avx2" in flags or "avx" in flags else 4
    fma_units = 2 if "fma" in flags or "avx512f" in flags else 1
    peak = cores * ghz * 1e9 * lanes * fma_units
    return peak, f"{cores} cores x {ghz:.2f} GHz x {lanes} fp32 lanes x {fma_units} FMA units"


def machine() -> dict:
    import torch

    from lenet_draw import __version__

    try:
        import PySide6

        qt = PySide6.__version__
    except ImportError:
        qt = None
    return {
        "cpu": _cpu_name(),
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "platform": platform.platform(),
        "versions": {
            "lenet_draw": __version__,
            "python": platform.python_version(),
            "torch": str(torch.__version__),
            "numpy": np.__version__,
            "PySide6": qt,
        },
    }


# ------------------------------------------------------------------------------ figures


def bench_launch(runs: int) -> dict:
    """Process start -> window that accepts strokes -> first prediction shown; window closed ->
    process ended (subprocess)."""
    window, first, quit_ = [], [], []
    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            probe = Path(tmp) / "probe.txt"
            start = time.time()
            subprocess.run(
                [sys.executable, "-m", "lenet_draw.bench.launch_probe", str(probe)],
                env=env,
                timeout=120,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                check=True,
            )
            ended = time.time()
            marks = dict(line.split() for line in probe.read_text().splitlines() if line.strip())
            window.append(float(marks["window"]) - start)
            first.append(float(marks["prediction"]) - start)
            quit_.append(ended - float(marks["close"]))
    return {
        "window_ready": summary_s(window),
        "first_prediction": summary_s(first),
        "quit": summary_s(quit_),
        "runs": runs,
    }


def _proxy_strokes(count: int) -> list[list[np.ndarray]]:
    """Real-looking drawings: MNIST test digits traced into pen paths, drawn 300 px tall."""
    from lenet_draw.training.data import default_data_dir, load_split
    from lenet_draw.training.pentrace import pen_paths, place

    data = default_data_dir()
    if data is None:  # fall back on a synthetic loop
        t = np.linspace(0, 2 * np.pi, 150)
        return [[np.c_[200 + 80 * np.cos(t), 200 + 140 * np.sin(t)]]] * count
    images = load_split(data, "test").images[:count]
    return [place(p, 300.0, (200.0, 200.0)) for p in pen_paths(images)]


def bench_preprocess_and_inference(engine, count: int) -> dict:
    from lenet_draw.preprocess import preprocess_strokes

    drawings = _proxy_strokes(count)
    for d in drawings[:5]:
        engine.predict_strokes(d)
    pre, inf, inf_acts = [], [], []
    for d in drawings:
        t0 = time.perf_counter()
        stages = preprocess_strokes(d, display_pen_width=12.0)
        pre.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        engine.predict_stages(stages, activations=False)
        inf.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        engine.predict_stages(stages, activations=True)
        inf_acts.append(time.perf_counter() - t0)
    return {
        "preprocess": summary_s(pre),
        "inference_one_image": summary_s(inf),
        "inference_one_image_with_activations": summary_s(inf_acts),
    }


def bench_batch(engine, repeats: int) -> dict:
    from lenet_draw.training.data import as_input, default_data_dir, load_split

    data = default_data_dir()
    if data is not None:
        images = as_input(load_split(data, "test").images)
    else:
        images = np.random.default_rng(0).random((10_000, 32, 32), dtype=np.float32)
    engine.probabilities(images[:2048])
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        engine.probabilities(images)
        times.append(time.perf_counter() - t0)
    rates = [len(images) / t for t in times]
    peak, how = peak_macs_per_s()
    out = {
        "images": len(images),
        "images_per_s_median": float(np.median(rates)),
        "images_per_s_p99_slowest": float(np.percentile(rates, 1)),
        "seconds": summary_s(times),
        "macs_per_image": MACS_PER_IMAGE,
    }
    if peak:
        out["peak_images_per_s"] = peak / MACS_PER_IMAGE
        out["fraction_of_peak"] = float(np.median(rates)) * MACS_PER_IMAGE / peak
        out["peak_basis"] = how
    return out


def bench_batch_plain(engine, repeats: int) -> dict:
    """For comparison: the model called on chunks of 512 in turn, with torch's own threads."""
    import torch

    images = np.random.default_rng(0).random((10_000, 32, 32), dtype=np.float32)
    model, conv = engine.model, engine.convention

    def run():
        with torch.inference_mode():
            for i in range(0, len(images), 512):
                torch.softmax(model(conv.apply(torch.from_numpy(images[i : i + 512])[:, None])), dim=1)

    run()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        run()
        times.append(time.perf_counter() - t0)
    return {"images": len(images), "images_per_s_median": float(np.median([len(images) / t for t in times]))}


def bench_training(steps: int) -> dict:
    """Seconds per epoch on 60,000 images with augmentation, from timed training steps."""
    import torch
    import torch.nn.functional as F

    from lenet_draw.model import LeNet5
    from lenet_draw.training.augment import AugmentConfig, augment
    from lenet_draw.training.data import default_data_dir, load_split
    from lenet_draw.weights import DEFAULT_CONVENTION

    data = default_data_dir()
    images = (
        torch.from_numpy(load_split(data, "train").images[: 128 * (steps + 5)])
        if data is not None
        else torch.randint(0, 256, (128 * (steps + 5), 28, 28), dtype=torch.uint8)
    )
    labels = torch.randint(0, 10, (len(images),))
    model = LeNet5()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    gen = torch.Generator().manual_seed(0)
    cfg = AugmentConfig()
    times = []
    for step in range(steps + 5):
        t0 = time.perf_counter()
        x = images[step * 128 : (step + 1) * 128].float().div_(255.0)[:, None]
        x = DEFAULT_CONVENTION.apply(F.pad(augment(x, gen, cfg), (2, 2, 2, 2)))
        loss = F.cross_entropy(model(x), labels[step * 128 : (step + 1) * 128])
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step >= 5:
            times.append(time.perf_counter() - t0)
    per_step = summary_s(times)
    steps_per_epoch = -(-60_000 // 128)
    return {
        "step": per_step,
        "batch_size": 128,
        "seconds_per_epoch_median": per_step["median_ms"] * steps_per_epoch / 1e3,
        "seconds_per_epoch_p99": per_step["p99_ms"] * steps_per_epoch / 1e3,
        "note": f"{steps} timed steps of 128 images, scaled to {steps_per_epoch} steps",
    }


def bench_gui(engine, moves: int, strokes: int) -> dict:
    """Live-update latency and memory, in this process, offscreen."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from lenet_draw.bench.latency import measure_move_latency
    from lenet_draw.gui.main_window import MainWindow
    from lenet_draw.gui.testing import draw_stroke

    app = QApplication.instance() or QApplication(sys.argv[:1])
    settings = QSettings(os.path.join(tempfile.mkdtemp(), "bench.ini"), QSettings.Format.IniFormat)
    os.environ["LENET_DRAW_DATA"] = tempfile.mkdtemp()  # no handwriting samples adapting meanwhile
    window = MainWindow(engine, settings=settings)
    window.resize(1280, 800)
    window.show()
    app.processEvents()
    rss_launch = _rss_mb()
    live = measure_move_latency(window, moves=moves)
    from lenet_draw.bench.number_latency import measure_number_latency

    number = measure_number_latency(window, repeats=1 if moves < 300 else 3)
    window.set_number_mode(False)
    canvas = window.canvas
    rng = np.random.default_rng(0)
    rss_mid = None
    t0 = time.perf_counter()
    for i in range(strokes):
        x, y = rng.uniform(0.2, 0.8, 2)
        draw_stroke(canvas, [(x, y), (x + 0.05, y + 0.1), (x + 0.1, y + 0.05)], process_every=None)
        if i % 10 == 9:
            canvas.clear()
            app.processEvents()
        if i == strokes // 10:
            rss_mid = _rss_mb()
    app.processEvents()
    elapsed = time.perf_counter() - t0
    rss_end = _rss_mb()
    window.close()
    return {
        "live_update": live,
        "number_live_update": number,
        "memory": {
            "rss_after_launch_mb": rss_launch,
            "rss_after_first_tenth_mb": rss_mid,
            "rss_after_strokes_mb": rss_end,
            "strokes": strokes,
            "growth_mb": rss_end - rss_launch,
            "seconds": elapsed,
        },
    }


# ------------------------------------------------------------------------------ report


def _line(name: str, s: dict, unit: str = "ms") -> str:
    return f"  {name:44s} median {s['median_ms']:8.3f} {unit}   p99 {s['p99_ms']:8.3f} {unit}   (n={s['n']})"


def report(res: dict) -> str:
    m = res["machine"]
    out = [
        f"lenet-draw bench on {m['cpu']}, {m['cores']} cores, device {res['device']}; torch threads: 1 for "
        f"the interactive figures (as the app), 1 and {m['cores']} for training",
        "  versions: " + ", ".join(f"{k} {v}" for k, v in m["versions"].items()),
    ]
    if "launch" in res:
        la = res["launch"]
        out += [
            "launch (process start, offscreen):",
            _line("window accepts strokes", la["window_ready"]),
            _line("first prediction shown", la["first_prediction"]),
            _line("window closed -> process ended", la["quit"]),
        ]
    if "gui" in res:
        lv = res["gui"]["live_update"]
        out += [
            "live update (pointer move -> bars and feature maps repainted):",
            _line("move to repaint", lv["move_to_repaint"]),
            _line("of which preprocessing + inference", lv["engine_preprocess_plus_inference"]),
        ]
        nl = res["gui"].get("number_live_update")
        if nl:
            out += [
                f"number mode, {nl['digits']} digits, the last one written (read as {nl['read_as']}):",
                _line("move to the number painted", nl["move_to_number_shown"]),
                _line("move to the digit panels painted too", nl["move_to_repaint"]),
                _line("of which reading the number", nl["number_reading"]),
            ]
    pi = res["core"]
    out += [
        "core (one torch thread):",
        _line("preprocessing (strokes -> 32x32)", pi["preprocess"]),
        _line("inference, one image", pi["inference_one_image"]),
        _line("inference, one image, every activation", pi["inference_one_image_with_activations"]),
    ]
    b = res["batch"]
    line = (
        f"  batch inference on {b['images']} images (a chunk of 512 per core, one torch thread each): "
        f"{b['images_per_s_median']:,.0f} images/s median ({b['images_per_s_p99_slowest']:,.0f} in the slowest run)"
    )
    if "peak_images_per_s" in b:
        line += (
            f"; {100 * b['fraction_of_peak']:.1f}% of the machine's peak of {b['peak_images_per_s']:,.0f} images/s "
            f"at {MACS_PER_IMAGE / 1e6:.2f} M multiply-adds per image ({b['peak_basis']})"
        )
    out.append(line)
    if "batch_plain" in res:
        bp = res["batch_plain"]
        out.append(
            f"    for comparison, chunks in turn with {bp['torch_threads']} torch threads: "
            f"{bp['images_per_s_median']:,.0f} images/s"
        )
    for threads, t in res.get("training", {}).items():
        out.append(
            f"  training with augmentation, {threads} torch thread(s): {t['seconds_per_epoch_median']:.1f} s/epoch "
            f"median, {t['seconds_per_epoch_p99']:.1f} s/epoch at p99 step time ({t['note']})"
        )
    if "gui" in res:
        mem = res["gui"]["memory"]
        out.append(
            f"memory: {mem['rss_after_launch_mb']:.0f} MB after launch, {mem['rss_after_strokes_mb']:.0f} MB "
            f"after {mem['strokes']} strokes drawn and cleared (growth {mem['growth_mb']:+.1f} MB)"
        )
    return "\n".join(out)


def _with_threads(n: int, fn, *a, **kw):
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        out = fn(*a, **kw)
    finally:
        torch.set_num_threads(before)
    if isinstance(out, dict):
        out["torch_threads"] = n
    return out


def main(args) -> int:
    """Interactive figures use one torch thread, as the app does (a pool of threads waiting on
    busy cores makes one small prediction tens of times slower); batch inference and training
    are measured with one thread and with every core."""
    if getattr(args, "explain", False):
        from lenet_draw.bench import explain_figures

        return explain_figures.main(args)
    quick = getattr(args, "quick", False)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from lenet_draw.engine import Engine

    cores = os.cpu_count() or 1
    started = time.perf_counter()
    res: dict = {}
    # the device first: one that is not there is said at once (DeviceError), not after the launch runs
    engine = Engine(device=getattr(args, "device", "auto"))
    res["device"] = engine.device
    res["launch"] = bench_launch(runs=3 if quick else 7)
    res["machine"] = machine()
    res["core"] = _with_threads(1, bench_preprocess_and_inference, engine, count=100 if quick else 400)
    res["batch"] = bench_batch(engine, repeats=3 if quick else 5)
    res["batch_plain"] = _with_threads(cores, bench_batch_plain, engine, repeats=3 if quick else 5)
    res["training"] = {f"{n}": _with_threads(n, bench_training, steps=10 if quick else 30) for n in sorted({1, cores})}
    res["gui"] = _with_threads(1, bench_gui, engine, moves=100 if quick else 300, strokes=1_000 if quick else 10_000)
    from lenet_draw.bench import explain_figures

    res["explain"] = _with_threads(1, explain_figures.measure, engine, quick=quick)
    res["seconds"] = time.perf_counter() - started
    print(report(res))
    print(explain_figures.report(res["explain"]))
    print(f"(bench took {res['seconds']:.0f} s)")
    if getattr(args, "json", None):
        from lenet_draw.atomic import write_bytes_atomic

        write_bytes_atomic(args.json, json.dumps(res, indent=2).encode())
    return 0
