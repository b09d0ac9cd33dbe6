"""Training LeNet-5 on MNIST, with the augmentation that bridges MNIST and canvas drawings."""

from __future__ import annotations

import datetime as _dt
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from lenet_draw import __version__, devices
from lenet_draw.atomic import check_output_path
from lenet_draw.model import LeNet5
from lenet_draw.training.augment import AugmentConfig, augment
from lenet_draw.training.data import Split, as_input, load_split
from lenet_draw.training.evaluate import percent_right
from lenet_draw.training.progress import ProgressBar
from lenet_draw.weights import DEFAULT_CONVENTION, InputConvention, save_weights


@dataclass
class TrainConfig:
    epochs: int = 20
    batch_size: int = 128
    lr: float = 3e-3
    weight_decay: float = 1e-4
    seed: int = 0
    device: str = "auto"
    augment: bool = True
    #: Final epochs trained on clean images: sharpens accuracy on undistorted digits.
    clean_epochs: int = 1
    limit: int | None = None  # use only the first N training images (quick runs, tests)
    #: Share of each batch shown as drawn: the digit traced into pen strokes and rendered by
    #: the app's own preprocessing, so the network learns the input the canvas gives it.
    drawn_fraction: float = 0.0
    #: Scribbles added per batch, as a share of its size, with "no digit" as the target.
    scribble_fraction: float = 0.0
    #: Drawings in the ways of writing MNIST hardly has (``styles``) added per batch, as a share
    #: of its size, each with its own target (a digit, or half 1 half 7 for the ambiguous middle).
    style_fraction: float = 0.0
    #: How many style drawings training draws its per-batch share from.
    style_pool: int = 20_000


def to_input(images_u8: torch.Tensor, convention: InputConvention = DEFAULT_CONVENTION) -> torch.Tensor:
    """(N, 28, 28) uint8 MNIST -> (N, 1, 32, 32) normalised input, exactly as at inference."""
    return convention.apply(torch.from_numpy(as_input(images_u8.numpy()))[:, None])


@torch.inference_mode()
def accuracy(model: torch.nn.Module, split: Split, device: str = "cpu", batch: int = 2000) -> float:
    model.eval()
    imgs = torch.from_numpy(np.ascontiguousarray(split.images))
    predicted = [
        model(to_input(imgs[i : i + batch]).to(device)).argmax(1).cpu().numpy() for i in range(0, len(split), batch)
    ]
    return percent_right(np.concatenate(predicted) if predicted else np.zeros(0, np.int64), split.labels)


def drawn_copies(images: np.ndarray, progress_stream=None) -> np.ndarray:
    """Every digit traced into pen paths and rendered back as the app renders a drawing."""
    from lenet_draw.preprocess import preprocess_strokes
    from lenet_draw.training.pentrace import pen_paths

    out = np.array(images, copy=True)
    chunk = 1000
    bar = ProgressBar(len(images), "tracing digits into strokes", stream=progress_stream)
    for start in range(0, len(images), chunk):
        for i, strokes in enumerate(pen_paths(images[start : start + chunk]), start):
            stages = preprocess_strokes(strokes, crop_view=False)
            if stages is not None:
                out[i] = np.round(stages.centred * 255).astype(np.uint8)
        bar.update(min(len(images), start + chunk))
    bar.close()
    return out


def train(
    cfg: TrainConfig,
    train_split: Split,
    test_split: Split | None = None,
    log=print,
    progress_stream=None,
) -> tuple[LeNet5, dict]:
    """Train from scratch; return the model and a summary (accuracy, time)."""
    device = devices.resolve(cfg.device)
    torch.manual_seed(cfg.seed)
    torch.use_deterministic_algorithms(True, warn_only=True)
    gen = torch.Generator().manual_seed(cfg.seed)
    images = torch.from_numpy(np.ascontiguousarray(train_split.images))
    labels = torch.from_numpy(train_split.labels)
    if cfg.limit:
        images, labels = images[: cfg.limit], labels[: cfg.limit]
    n = len(labels)
    drawn = None
    if cfg.drawn_fraction > 0:
        drawn = torch.from_numpy(drawn_copies(images.numpy(), progress_stream))
    scribbles = None
    if cfg.scribble_fraction > 0:
        from lenet_draw.training.scribbles import scribble_images

        scribbles = torch.from_numpy(scribble_images(10_000, seed=cfg.seed + 1))
    n_scribbles = int(round(cfg.batch_size * cfg.scribble_fraction))
    style_imgs = style_targets = None
    if cfg.style_fraction > 0:
        from lenet_draw.training.styles import style_images

        si, st = style_images(cfg.style_pool, seed=cfg.seed + 2)
        style_imgs, style_targets = torch.from_numpy(si), torch.from_numpy(st)
    n_styles = int(round(cfg.batch_size * cfg.style_fraction))
    model = LeNet5().to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps_per_epoch = (n + cfg.batch_size - 1) // cfg.batch_size
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=cfg.lr, total_steps=cfg.epochs * steps_per_epoch, pct_start=0.15
    )
    aug_cfg = AugmentConfig()
    history = []
    started = time.perf_counter()
    for epoch in range(cfg.epochs):
        model.train()
        distort = cfg.augment and epoch < cfg.epochs - cfg.clean_epochs
        order = torch.randperm(n, generator=gen)
        bar = ProgressBar(steps_per_epoch, f"epoch {epoch + 1}/{cfg.epochs}", stream=progress_stream)
        seen = correct = 0
        loss_sum = 0.0
        t_epoch = time.perf_counter()
        for step in range(steps_per_epoch):
            idx = order[step * cfg.batch_size : (step + 1) * cfg.batch_size]
            batch = images[idx]
            if drawn is not None:
                pick = torch.rand(len(idx), generator=gen) < cfg.drawn_fraction
                batch = torch.where(pick[:, None, None], drawn[idx], batch)
            pick_styles = None
            if style_imgs is not None:
                pick_styles = torch.randint(len(style_imgs), (n_styles,), generator=gen)
                batch = torch.cat([batch, style_imgs[pick_styles]])
            if scribbles is not None:
                batch = torch.cat([batch, scribbles[torch.randint(len(scribbles), (n_scribbles,), generator=gen)]])
            x = batch.float().div_(255.0)[:, None]
            if distort:
                x = augment(x, gen, aug_cfg)
            x = DEFAULT_CONVENTION.apply(F.pad(x, (2, 2, 2, 2))).to(device)
            y = labels[idx].to(device)
            all_logits = model(x)
            logits = all_logits[: len(idx)]
            n_digits = len(idx)
            if pick_styles is not None and style_targets is not None:
                # MNIST digits and style drawings as one set of targets: one-hot, or mixed for
                # the ambiguous middle (soft cross-entropy)
                targets = torch.cat([F.one_hot(y, 10).float(), style_targets[pick_styles].to(device)])
                n_digits += n_styles
                logp = F.log_softmax(all_logits[:n_digits], dim=1)
                loss = -(targets * logp).sum(dim=1).mean()
            else:
                loss = F.cross_entropy(logits, y)
            if scribbles is not None:
                # outlier exposure: the target for a scribble is the uniform distribution
                loss = loss + 0.5 * -F.log_softmax(all_logits[n_digits:], dim=1).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            seen += len(y)
            correct += int((logits.argmax(1) == y).sum())
            loss_sum += float(loss.detach()) * len(y)
            bar.update(step + 1, loss=loss_sum / seen, acc=100.0 * correct / seen)
        bar.close(loss=loss_sum / seen, acc=100.0 * correct / seen)
        entry = {
            "epoch": epoch + 1,
            "loss": loss_sum / seen,
            "train_acc": 100.0 * correct / seen,
            "seconds": time.perf_counter() - t_epoch,
            "augmented": distort,
        }
        if test_split is not None:
            entry["test_acc"] = accuracy(model, test_split, device)
            log(f"epoch {epoch + 1}: test accuracy {entry['test_acc']:.2f}% ({entry['seconds']:.1f} s)")
        history.append(entry)
    model.eval()
    summary = {
        "epochs": cfg.epochs,
        "seconds": time.perf_counter() - started,
        "history": history,
        "test_accuracy": history[-1].get("test_acc") if history else None,
        "device": device,
    }
    return model.cpu(), summary


def metadata(cfg: TrainConfig, summary: dict, command: str, train_size: int) -> dict:
    return {
        "architecture": "LeNet-5 (LeCun et al. 1998): C1 6@5x5 tanh, S2 avg, C3 16@5x5 tanh, S4 avg, "
        "C5 120@5x5 tanh, F6 84 tanh, 10",
        "command": command,
        "epochs": cfg.epochs,
        "batch_size": cfg.batch_size,
        "seed": cfg.seed,
        "augment": cfg.augment,
        "drawn_fraction": cfg.drawn_fraction,
        "scribble_fraction": cfg.scribble_fraction,
        "style_fraction": cfg.style_fraction,
        "train_images": train_size,
        "test_accuracy": summary.get("test_accuracy"),
        "train_seconds": round(summary["seconds"], 1),
        "device": summary["device"],
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "versions": {
            "lenet_draw": __version__,
            "torch": str(torch.__version__),
            "numpy": str(np.__version__),
            "python": platform.python_version(),
        },
    }


#: What --out can be: a .pt/.pth checkpoint or .safetensors.
WEIGHT_SUFFIXES = (".pt", ".pth", ".safetensors")


def run(data_dir: str | Path, out: str | Path, cfg: TrainConfig, command: str | None = None) -> dict:
    """The `train` subcommand: load data, train, evaluate, save with metadata.

    ``out`` is checked first (OutputPathError): a run is never lost to an output path found
    unusable only when it is time to save."""
    check_output_path(out, WEIGHT_SUFFIXES)
    train_split = load_split(data_dir, "train")
    test_split = load_split(data_dir, "test")
    command = command or "lenet-draw train " + " ".join(sys.argv[2:])
    model, summary = train(cfg, train_split, test_split)
    size = min(len(train_split), cfg.limit or len(train_split))
    save_weights(out, model.state_dict(), DEFAULT_CONVENTION, metadata(cfg, summary, command, size))
    return summary
