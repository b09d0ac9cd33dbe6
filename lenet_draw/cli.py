"""Command line: the app (default), and the train / eval / predict / bench subcommands."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

SUBCOMMANDS = ("train", "eval", "predict", "bench")


def _data_dir(arg: str | None) -> Path:
    from lenet_draw.training.data import DATA_ENV, default_data_dir

    if arg:
        return Path(arg)
    found = default_data_dir()
    if found is None:
        raise SystemExit(f"No MNIST data found: pass --data DIR or set {DATA_ENV}.")
    return found


def _engine(weights: str | None, device: str):
    from lenet_draw.devices import DeviceError
    from lenet_draw.engine import Engine
    from lenet_draw.weights import WeightsError

    try:
        return Engine(weights, device=device)
    except (WeightsError, DeviceError) as exc:
        raise SystemExit(f"error: {exc}") from None


def cmd_train(args: argparse.Namespace) -> int:
    from lenet_draw.training.train import TrainConfig, run

    cfg = TrainConfig(
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        seed=args.seed,
        device=args.device,
        augment=not args.no_augment,
        limit=args.limit,
        drawn_fraction=args.drawn_fraction,
        scribble_fraction=args.scribble_fraction,
        style_fraction=args.style_fraction,
    )
    command = "lenet-draw train " + " ".join(args.raw)
    summary = run(_data_dir(args.data), args.out, cfg, command=command)
    print(
        f"saved {args.out}: test accuracy {summary['test_accuracy']:.2f}% after {cfg.epochs} epochs "
        f"in {summary['seconds']:.0f} s on {summary['device']}"
    )
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from lenet_draw.training.data import load_split
    from lenet_draw.training.evaluate import confusion_png, evaluate

    engine = _engine(args.weights, args.device)
    if args.styles:
        return _eval_styles(engine, args)
    split = load_split(_data_dir(args.data), args.split)
    rep = evaluate(engine, split)
    print(f"weights: {engine.weights.source}\ndevice: {engine.device}\nsplit: {args.split} ({len(split)} images)\n")
    print(rep.text())
    if args.confusion_png:
        print(f"\nconfusion matrix saved to {confusion_png(rep, args.confusion_png)}")
    return 0


def _eval_styles(engine, args: argparse.Namespace) -> int:
    from lenet_draw.bench import styleset

    print(f"weights: {engine.weights.source}\ndevice: {engine.device}\n")
    print(styleset.measure(engine, styleset.generated(args.per_style), "generated style set").text())
    if args.drawings:
        try:
            drawings = styleset.load_drawings(args.drawings)
        except ValueError as exc:
            raise SystemExit(f"error: {exc}") from None
        if not drawings:
            raise SystemExit(f"error: no stroke files (*.json) in {args.drawings}")
        print()
        print(styleset.measure(engine, drawings, f"drawn by hand ({args.drawings})").text())
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    from lenet_draw.images import ImageError, open_image

    engine = _engine(args.weights, args.device)
    status = 0
    for name in args.images:
        try:
            pred = engine.predict_image(open_image(name), activations=False)
        except ImageError as exc:
            print(f"{name}: cannot read image: {exc}")
            status = 1
            continue
        if pred is None:
            print(f"{name}: no ink found, no prediction")
            continue
        tops = ", ".join(f"{d} ({p * 100:.1f}%)" for d, p in pred.top(3))
        print(f"{name}: {tops}{'  [unsure]' if pred.unsure else ''}")
    return status


def cmd_bench(args: argparse.Namespace) -> int:
    from lenet_draw.bench.figures import main as bench_main

    return bench_main(args)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="lenet-draw", description="Draw a digit and watch LeNet-5 read it.")
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train LeNet-5 on MNIST")
    t.add_argument("--data", help="folder with MNIST's IDX files (default: ../shared/data/mnist)")
    t.add_argument("--epochs", type=int, default=20)
    t.add_argument("--out", required=True, help="weights file to write (.pt or .safetensors)")
    t.add_argument("--device", default="auto", help="auto|cpu|cuda|mps")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--batch-size", type=int, default=128)
    t.add_argument("--lr", type=float, default=3e-3)
    t.add_argument("--no-augment", action="store_true", help="train on the plain images")
    t.add_argument("--limit", type=int, help="use only the first N training images")
    t.add_argument(
        "--drawn-fraction",
        type=float,
        default=0.0,
        metavar="F",
        help="share of each batch shown as traced pen strokes rendered like a drawing",
    )
    t.add_argument(
        "--scribble-fraction",
        type=float,
        default=0.0,
        metavar="F",
        help="scribbles added to each batch (as a share of it) with 'no digit' as the target",
    )
    t.add_argument(
        "--style-fraction",
        type=float,
        default=0.0,
        metavar="F",
        help="drawings in the ways of writing MNIST lacks (slashed zeros, flagged ones, crossed sevens...) "
        "added to each batch, as a share of it",
    )
    t.set_defaults(func=cmd_train)

    e = sub.add_parser("eval", help="accuracy, per-class accuracy and confusion matrix")
    e.add_argument("--data")
    e.add_argument("--weights", help="weights file (default: the bundled weights)")
    e.add_argument("--split", default="test", choices=("test", "train"))
    e.add_argument("--device", default="auto")
    e.add_argument("--confusion-png", metavar="FILE")
    e.add_argument(
        "--styles",
        action="store_true",
        help="instead of MNIST: accuracy per way of writing (slashed zeros, flagged ones, crossed sevens...)",
    )
    e.add_argument("--per-style", type=int, default=200, metavar="N", help="generated drawings per style")
    e.add_argument("--drawings", metavar="DIR", help="with --styles: also the hand-drawn stroke files in DIR")
    e.set_defaults(func=cmd_eval)

    pr = sub.add_parser("predict", help="top-3 classes for image files")
    pr.add_argument("images", nargs="+")
    pr.add_argument("--weights")
    pr.add_argument("--device", default="auto")
    pr.set_defaults(func=cmd_predict)

    b = sub.add_parser("bench", help="measure launch, live update, inference, training and memory")
    b.add_argument("--json", metavar="FILE")
    b.add_argument("--quick", action="store_true", help="fewer repetitions")
    b.set_defaults(func=cmd_bench)
    return p


def build_app_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="lenet-draw",
        description="Draw a digit and watch LeNet-5 read it. Subcommands: "
        + ", ".join(SUBCOMMANDS)
        + " (lenet-draw SUBCOMMAND --help).",
    )
    p.add_argument("weights", nargs="?", help="weights file to open (default: the bundled weights)")
    p.add_argument("--device", default="auto", help="auto|cpu|cuda|mps")
    p.add_argument("--self-test", action="store_true", help="check the installation and exit 0 or 1")
    p.add_argument("--version", action="store_true")
    return p


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in SUBCOMMANDS:
        args = build_parser().parse_args(argv)
        args.raw = argv[1:]
        return int(args.func(args) or 0)
    args = build_app_parser().parse_args(argv)
    if args.version:
        from lenet_draw import __version__

        print(f"lenet-draw {__version__}")
        return 0
    if args.self_test:
        from lenet_draw.selftest import run_self_test

        return run_self_test(weights=args.weights, device=args.device)
    from lenet_draw.gui.app import run_app

    return run_app(weights=args.weights, device=args.device)
