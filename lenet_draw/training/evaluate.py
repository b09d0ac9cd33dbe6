"""Accuracy, per-class accuracy and the confusion matrix of an engine on a labelled set."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from lenet_draw.atomic import check_output_path, write_atomic
from lenet_draw.training.data import Split, as_input


@dataclass(frozen=True)
class Report:
    accuracy: float  # percent
    per_class: np.ndarray  # (10,) percent
    confusion: np.ndarray  # (10, 10) counts; rows = true label, columns = prediction

    def text(self) -> str:
        lines = [
            f"accuracy: {self.accuracy:.2f}% ({int(np.trace(self.confusion))}/{int(self.confusion.sum())})",
            "",
            "per class:",
        ]
        lines += [f"  {d}: {a:6.2f}%  ({int(self.confusion[d].sum())} images)" for d, a in enumerate(self.per_class)]
        lines += [
            "",
            "confusion matrix (rows: true digit, columns: predicted):",
            "      " + "".join(f"{d:>6}" for d in range(10)),
        ]
        lines += [f"  {d:>2}  " + "".join(f"{int(v):>6}" for v in row) for d, row in enumerate(self.confusion)]
        return "\n".join(lines)


def percent_right(predicted: np.ndarray, labels: np.ndarray) -> float:
    """The one accuracy: percent of ``predicted`` equal to ``labels`` (0 for no labels)."""
    labels = np.asarray(labels)
    return 100.0 * float(np.sum(np.asarray(predicted) == labels)) / max(1, labels.size)


def report(predicted: np.ndarray, labels: np.ndarray) -> Report:
    conf = np.zeros((10, 10), dtype=np.int64)
    np.add.at(conf, (labels, predicted), 1)
    totals = conf.sum(axis=1)
    per_class = 100.0 * np.diag(conf) / np.maximum(totals, 1)
    return Report(accuracy=percent_right(predicted, labels), per_class=per_class, confusion=conf)


def evaluate(engine, split: Split) -> Report:
    probs = engine.probabilities(as_input(split.images))
    return report(probs.argmax(axis=1), split.labels)


def confusion_png(rep: Report, path: str | Path, cell: int = 44) -> Path:
    """Save the confusion matrix as a picture: rows true digit, columns predicted."""
    conf = rep.confusion
    margin = cell
    size = margin + 10 * cell
    img = Image.new("RGB", (size, size + 20), "white")
    d = ImageDraw.Draw(img)
    norm = conf / np.maximum(conf.sum(axis=1, keepdims=True), 1)
    for i in range(10):
        d.text((margin // 2 - 3, margin + i * cell + cell // 2 - 6), str(i), fill="black")
        d.text((margin + i * cell + cell // 2 - 3, margin // 2 - 6), str(i), fill="black")
        for j in range(10):
            v = norm[i, j]
            if i == j:
                colour = (int(255 - 180 * v), int(255 - 90 * v), int(255 - 180 * v))
            else:
                t = min(1.0, v * 20)
                colour = (255, int(255 - 200 * t), int(255 - 200 * t))
            x0, y0 = margin + j * cell, margin + i * cell
            d.rectangle((x0, y0, x0 + cell - 1, y0 + cell - 1), fill=colour, outline=(220, 220, 220))
            if conf[i, j]:
                txt = str(int(conf[i, j]))
                d.text((x0 + cell // 2 - 3 * len(txt), y0 + cell // 2 - 6), txt, fill="black")
    d.text((margin, size + 2), f"rows: true digit, columns: predicted; accuracy {rep.accuracy:.2f}%", fill="black")
    path = Path(path)
    fmt = confusion_format(path)
    write_atomic(path, lambda f: img.save(f, format=fmt))
    return path


#: What --confusion-png can write: its suffix picks the format.
CONFUSION_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")


def confusion_format(path: str | Path) -> str:
    """The image format for ``path``, checked before the evaluation: OutputPathError if unusable."""
    path = check_output_path(path, CONFUSION_SUFFIXES)
    return Image.registered_extensions()[path.suffix.lower()]
