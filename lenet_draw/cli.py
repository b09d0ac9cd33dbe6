"""Command line: the app (default), and the train / eval / predict / bench subcommands.

Every mistake a person can make on the command line (a missing or unreadable data folder, a
weights or image file that cannot be used, an output path that cannot be written, a number out
of range) ends in one sentence on stderr and exit status 2, checked before any long work
starts; a traceback means a bug in lenet-draw.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path
from typing import NoReturn

#: (name, one line) for each subcommand, in the order `--help` lists them.
SUBCOMMAND_HELP = (
    ("train", "train LeNet-5 on MNIST and write a weights file"),
    ("eval", "accuracy, per-class accuracy and confusion matrix of weights on MNIST"),
    ("predict", "the top three digits for each image file"),
    ("bench", "measure launch, live update, inference, training, memory and quit time"),
    ("adapt", "adapt weights to a folder of corrected drawings, as the window does"),
)
SUBCOMMANDS = tuple(name for name, _ in SUBCOMMAND_HELP)
#: Exit status for a mistake in what was asked (argparse uses the same).
USAGE_ERROR = 2
WEIGHTS_SUFFIXES = (".pt", ".pth", ".safetensors")
#: What --confusion-png can write (pillow picks the format from the extension).
PICTURE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")


class UserError(Exception):
    """Something the person asked for cannot be done; ``str()`` is one sentence saying why."""


def _user_error_types() -> tuple[type[BaseException], ...]:
    """The error types that mean bad input, not a bug: every ValueError subclass in
    lenet_draw.errors, the IDX reader's error, and UserError."""
    from lenet_draw import errors

    found: list[type[BaseException]] = [UserError]
    for value in vars(errors).values():
        if isinstance(value, type) and issubclass(value, ValueError) and value is not ValueError:
            found.append(value)
    # The IDX reader's error only where training was imported (a subcommand that reads MNIST):
    # the app and `predict` never import the training room, and the packaged app lacks it.
    data = sys.modules.get("lenet_draw.training.data")
    if data is not None:
        found.append(data.IdxError)
    return tuple(found)


def _sentence(text: str) -> str:
    text = " ".join(str(text).split())
    return text if text.endswith((".", "?", "!")) else text + "."


# ---------------------------------------------------------------------------- argument checks


class _Parser(argparse.ArgumentParser):
    """argparse with a one-sentence error: what is wrong, and where to read more."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"{self.prog}: error: {_sentence(message)} See '{self.prog} --help'.\n")
        raise SystemExit(USAGE_ERROR)


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text} must be at least 1")
    return value


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None


def positive_float(text: str) -> float:
    value = _number(text)
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"{text} must be a positive finite number")
    return value


def fraction(text: str) -> float:
    value = _number(text)
    if not (math.isfinite(value) and 0.0 <= value <= 1.0):
        raise argparse.ArgumentTypeError(f"{text} must be between 0 and 1")
    return value


def _check_output(path_text: str, suffixes: tuple[str, ...]) -> Path:
    """An output file that can be written (checked before any long work): OutputPathError if not."""
    from lenet_draw.atomic import check_output_path

    return check_output_path(path_text, suffixes)


def _data_dir(arg: str | None) -> Path:
    from lenet_draw.training.data import DATA_ENV, default_data_dir

    if not arg:
        found = default_data_dir()
        if found is None:
            raise UserError(f"No MNIST data found: pass --data DIR or set {DATA_ENV}.")
        return found
    folder = Path(arg)
    try:
        if folder.is_symlink() and not folder.exists():
            raise UserError(
                f"The data folder {folder} is a symbolic link that leads nowhere (a loop or a missing target)."
            )
        if not folder.exists():
            raise UserError(f"The data folder {folder} does not exist.")
        if not folder.is_dir():
            raise UserError(f"--data {folder} is a file; give the folder holding MNIST's four IDX files.")
    except OSError as exc:  # a symlink loop, a name too long, ...
        raise UserError(f"The data folder {folder} cannot be opened ({exc.strerror or exc}).") from None
    return folder


def _load_split(folder: Path, split: str):
    from lenet_draw.training.data import IdxError, load_split

    try:
        data = load_split(folder, split)
    except IdxError as exc:
        raise UserError(f"{folder} holds no usable MNIST {split} set: {_sentence(str(exc))}") from None
    if len(data) == 0:
        raise UserError(f"The MNIST {split} set in {folder} holds no images.")
    return data


def _engine(weights: str | None, device: str):
    from lenet_draw.engine import Engine

    return Engine(weights, device=device)  # WeightsError and DeviceError are user errors


# ---------------------------------------------------------------------------- subcommands


def cmd_train(args: argparse.Namespace) -> int:
    out = _check_output(args.out, WEIGHTS_SUFFIXES)
    folder = _data_dir(args.data)
    _load_split(folder, "train")
    _load_split(folder, "test")
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
    summary = run(folder, out, cfg, command=command)
    print(
        f"saved {out}: test accuracy {summary['test_accuracy']:.2f}% after {cfg.epochs} epochs "
        f"in {summary['seconds']:.0f} s on {summary['device']}"
    )
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    png = _check_output(args.confusion_png, PICTURE_SUFFIXES) if args.confusion_png else None
    if args.styles:
        return _eval_styles(_engine(args.weights, args.device), args)
    split = _load_split(_data_dir(args.data), args.split)
    engine = _engine(args.weights, args.device)
    from lenet_draw.training.evaluate import confusion_png, evaluate

    rep = evaluate(engine, split)
    print(f"weights: {engine.weights.source}\ndevice: {engine.device}\nsplit: {args.split} ({len(split)} images)\n")
    print(rep.text())
    if png is not None:
        print(f"\nconfusion matrix saved to {confusion_png(rep, png)}")
    return 0


def _eval_styles(engine, args: argparse.Namespace) -> int:
    from lenet_draw.bench import styleset

    drawings = []
    if args.drawings:  # read first: a file that is not a drawing is refused before the long work
        try:
            drawings = styleset.load_drawings(args.drawings)
        except ValueError as exc:
            raise UserError(str(exc)) from None
        if not drawings:
            raise UserError(f"No stroke files (*.json) in {args.drawings}.")
    print(f"weights: {engine.weights.source}\ndevice: {engine.device}\n")
    print(styleset.measure(engine, styleset.generated(args.per_style), "generated style set").text())
    if drawings:
        print()
        print(styleset.measure(engine, drawings, f"drawn by hand ({args.drawings})").text())
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    from lenet_draw.images import ImageError, open_image

    engine = _engine(args.weights, args.device)
    if args.number:
        from lenet_draw.numbers import print_numbers

        return print_numbers(engine, args.images)
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
    if args.json:
        _check_output(args.json, (".json",))
    if args.writers:
        from lenet_draw.bench.personal import main as writers_main

        writers_main([w.strip() for w in args.writers.split(",") if w.strip()], json_path=args.json)
        return 0
    from lenet_draw.bench.figures import main as bench_main

    return bench_main(args)


def cmd_adapt(args: argparse.Namespace) -> int:
    """The window's adaptation, on a folder of sample files."""
    out = _check_output(args.out, WEIGHTS_SUFFIXES)
    from lenet_draw.personalise import adapt, export
    from lenet_draw.samples import read_folder

    folder = Path(args.samples)
    if not folder.is_dir():
        raise UserError(f"{folder} is not a folder of sample files.")
    samples, problems = read_folder(folder)
    for problem in problems:
        print(f"skipped {problem}")
    if not samples:
        raise UserError(f"{folder} holds no usable sample files (*.json).")
    engine = _engine(args.weights, "cpu")
    result = adapt(engine.weights, samples)
    try:
        written = export(result.weights, out)
    except OSError as exc:
        raise UserError(f"Cannot write {out}: {exc.strerror or exc}.") from None
    print(f"saved {written}: {result.weights.meta['note']} in {result.seconds:.1f} s")
    return 0


# ---------------------------------------------------------------------------- parsers

DEVICE_HELP = "where LeNet-5 runs: auto (a GPU when there is one), cpu, cuda, cuda:N or mps (default: auto)"
WEIGHTS_HELP = "weights file, .pt, .pth or .safetensors (default: the bundled weights)"
DATA_HELP = "folder holding MNIST's four IDX files (default: $LENET_DRAW_MNIST or ../shared/data/mnist)"


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="lenet-draw", description="Draw a digit and watch LeNet-5 read it.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    helps = dict(SUBCOMMAND_HELP)

    t = sub.add_parser("train", help=helps["train"], description=helps["train"] + ".")
    t.add_argument("--data", help=DATA_HELP)
    t.add_argument("--epochs", type=positive_int, default=20, help="passes over the training set (default: 20)")
    t.add_argument("--out", required=True, help="weights file to write (.pt, .pth or .safetensors)")
    t.add_argument("--device", default="auto", help=DEVICE_HELP)
    t.add_argument("--seed", type=int, default=0, help="random seed; the same seed trains the same weights on a CPU")
    t.add_argument("--batch-size", type=positive_int, default=128, help="images per training step (default: 128)")
    t.add_argument("--lr", type=positive_float, default=3e-3, help="peak learning rate (default: 0.003)")
    t.add_argument("--no-augment", action="store_true", help="train on the plain images, without distortions")
    t.add_argument("--limit", type=positive_int, help="use only the first N training images")
    t.add_argument(
        "--drawn-fraction",
        type=fraction,
        default=0.0,
        metavar="F",
        help="share of each batch shown as traced pen strokes rendered like a drawing (0 to 1)",
    )
    t.add_argument(
        "--scribble-fraction",
        type=fraction,
        default=0.0,
        metavar="F",
        help="scribbles added to each batch (as a share of it, 0 to 1) with 'no digit' as the target",
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

    e = sub.add_parser("eval", help=helps["eval"], description=helps["eval"] + ".")
    e.add_argument("--data", help=DATA_HELP)
    e.add_argument("--weights", help=WEIGHTS_HELP)
    e.add_argument("--split", default="test", choices=("test", "train"), help="which MNIST set (default: test)")
    e.add_argument("--device", default="auto", help=DEVICE_HELP)
    e.add_argument("--confusion-png", metavar="FILE", help="also save the confusion matrix as a picture (.png)")
    e.add_argument(
        "--styles",
        action="store_true",
        help="instead of MNIST: accuracy per way of writing (slashed zeros, flagged ones, crossed sevens...)",
    )
    e.add_argument("--per-style", type=int, default=200, metavar="N", help="generated drawings per style")
    e.add_argument("--drawings", metavar="DIR", help="with --styles: also the hand-drawn stroke files in DIR")
    e.set_defaults(func=cmd_eval)

    pr = sub.add_parser("predict", help=helps["predict"], description=helps["predict"] + ".")
    pr.add_argument("images", nargs="+", metavar="IMAGE", help="image files of digits (PNG, JPEG, ...)")
    pr.add_argument("--weights", help=WEIGHTS_HELP)
    pr.add_argument("--device", default="auto", help=DEVICE_HELP)
    pr.add_argument(
        "--number",
        action="store_true",
        help="read a written number (several digits) from each image or stroke file (.json)",
    )
    pr.set_defaults(func=cmd_predict)

    b = sub.add_parser("bench", help=helps["bench"], description=helps["bench"] + ".")
    b.add_argument("--json", metavar="FILE", help="also write every figure to this .json file")
    b.add_argument("--quick", action="store_true", help="fewer repetitions")
    b.add_argument("--device", default="auto", help=DEVICE_HELP)
    b.add_argument(
        "--writers",
        metavar="SOURCES",
        help="instead: the simulated-writer benchmark of personalisation, with writers from these "
        "comma-separated sources (traced, styles, hand)",
    )
    b.add_argument("--explain", action="store_true", help="only the explanations' figures (overlay, invariance plots)")
    b.set_defaults(func=cmd_bench)

    a = sub.add_parser("adapt", help=helps["adapt"], description=helps["adapt"] + ".")
    a.add_argument("samples", help="folder of sample files (*.json: label and strokes)")
    a.add_argument("--weights", help="base " + WEIGHTS_HELP)
    a.add_argument("--out", required=True, help="weights file to write (.pt, .pth or .safetensors)")
    a.set_defaults(func=cmd_adapt)
    return p


def build_app_parser() -> argparse.ArgumentParser:
    from lenet_draw import __version__

    width = max(len(name) for name in SUBCOMMANDS)
    epilog = "subcommands (lenet-draw SUBCOMMAND --help for their options):\n" + "\n".join(
        f"  {name:<{width}}  {text}" for name, text in SUBCOMMAND_HELP
    )
    p = _Parser(
        prog="lenet-draw",
        usage="lenet-draw [WEIGHTS] [--device D] | lenet-draw --self-test | lenet-draw SUBCOMMAND ...",
        description="Draw a digit and watch LeNet-5 read it. Without a subcommand, opens the window.",
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("weights", nargs="?", help=WEIGHTS_HELP)
    p.add_argument("--device", default="auto", help=DEVICE_HELP)
    p.add_argument("--self-test", action="store_true", help="check the installation end to end and exit 0 or 1")
    p.add_argument("--version", action="version", version=f"lenet-draw {__version__}", help="print the version")
    return p


def _run(argv: list[str]) -> int:
    if argv and argv[0] in SUBCOMMANDS:
        args = build_parser().parse_args(argv)
        args.raw = argv[1:]
        return int(args.func(args) or 0)
    args = build_app_parser().parse_args(argv)
    if args.self_test:
        from lenet_draw.selftest import run_self_test

        return run_self_test(weights=args.weights, device=args.device)
    from lenet_draw.gui.syslibs import missing_libraries, missing_sentence

    missing = missing_libraries()
    if missing:
        raise UserError(missing_sentence(missing))
    if args.weights and not Path(args.weights).exists():
        if Path(args.weights).suffix.lower() not in WEIGHTS_SUFFIXES and os.sep not in args.weights:
            raise UserError(
                f"{args.weights!r} is neither a subcommand ({', '.join(SUBCOMMANDS)}) nor a weights file. "
                "See 'lenet-draw --help'."
            )
        raise UserError(f"The weights file {args.weights} does not exist.")
    from lenet_draw.gui.app import run_app

    return run_app(weights=args.weights, device=args.device, exit_process=True)


def main(argv: list[str] | None = None) -> int:
    """Run what ``argv`` asks for; return the exit status (2 for a mistake in what was asked)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        return _run(argv)
    except SystemExit as exc:  # --help, --version, argparse's usage errors, a part's own refusal
        if isinstance(exc.code, str):
            sys.stderr.write(f"lenet-draw: {_sentence(exc.code)}\n")
            return USAGE_ERROR
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else USAGE_ERROR)
    except KeyboardInterrupt:
        sys.stderr.write("lenet-draw: interrupted.\n")
        return 130
    except Exception as exc:
        if not isinstance(exc, _user_error_types()):
            raise  # a bug: its traceback
        sys.stderr.write(f"lenet-draw: error: {_sentence(str(exc))}\n")
        return USAGE_ERROR
