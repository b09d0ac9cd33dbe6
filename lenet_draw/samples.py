"""A person's corrected drawings ("samples"): one JSON file per drawing, read and written here.

A sample file holds one JSON object, ``{"label": 7, "strokes": [[[x, y], ...], ...]}``, with
x, y in pad units ((0, 0) top left, (1, 1) bottom right) and an optional third value per
point, the pen's pressure. Other keys are allowed and kept, up to ``MAX_EXTRA_BYTES`` of them
(the window writes ``read_as`` and ``created``; a newer version may write more). The window and
``lenet-draw adapt`` read and write the same files. A file that is not a sample gets one
sentence and is skipped; the others are still read. No torch, no Qt.
"""

from __future__ import annotations

import json
import os
import time
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Iterable, Sequence

import numpy as np

from lenet_draw.atomic import write_atomic, write_bytes_atomic
from lenet_draw.regular_file import NotRegular, TooLarge, open_regular, read_regular, refusal
from lenet_draw.zip_directory import TAIL_BYTES, declared

#: A sample file larger than this is refused unread: a digit is a few thousand points at most.
MAX_SAMPLE_BYTES = 4 * 1024 * 1024
#: Points in one sample, all strokes together.
MAX_POINTS = 100_000
#: JSON lists and objects in one sample file, counted before it is decoded: a list per point, one
#: per stroke, one for the strokes and the sample's own object. An empty object or list costs
#: 3 bytes of text and about 60 bytes once decoded, so a count is the only way to bound a file
#: of nothing but ``{},{},...`` before decoding it.
MAX_CONTAINERS = 2 * MAX_POINTS + 2
#: Keys other than label and strokes one sample keeps, as ``write_sample`` writes them (compact
#: JSON). The window writes a few dozen bytes (``read_as``, ``created``).
MAX_EXTRA_BYTES = 64 * 1024
#: What an import reads from one zip at most: files, and bytes once decompressed (the sizes the
#: zip declares, which reading enforces). Ten thousand drawings is far more than a person corrects;
#: the caps keep a small crafted zip from decompressing gigabytes.
MAX_IMPORT_FILES = 10_000
MAX_IMPORT_BYTES = 64 * 1024 * 1024
#: Points an import decodes at most, all files together (a point is a JSON list; lists and objects
#: are counted before a file is decoded, at the speed of a byte search, and count alike here).
MAX_IMPORT_POINTS = 2_000_000
#: A zip of samples larger than this is refused unopened: 10,000 drawings take a few MB.
MAX_IMPORT_ZIP_BYTES = 64 * 1024 * 1024
#: Entries and bytes of central directory a zip of samples may have, checked from its end record
#: before zipfile parses the directory (about 0.6 kB an entry, held until the zip is closed, and
#: seconds for a few hundred thousand). Room for MAX_IMPORT_FILES samples, each with the
#: ``__MACOSX/._`` companion macOS's Finder may add, and their folders: about 130 bytes an entry.
MAX_IMPORT_ENTRIES = 3 * MAX_IMPORT_FILES
MAX_IMPORT_DIRECTORY_BYTES = 4 * 1024 * 1024
#: Sentences about skipped files shown at most; the rest are counted in one more line (a zip of
#: thousands of bad files would otherwise fill a dialog taller than any screen).
MAX_PROBLEMS_SHOWN = 20
SUFFIX = ".json"


class SampleError(ValueError):
    """A sample file that cannot be used; the message is one sentence naming the file."""


@dataclass(frozen=True)
class Sample:
    """One corrected drawing: what the person said it is, and the strokes they drew."""

    label: int
    strokes: tuple[np.ndarray, ...]  # each (N, 2) or (N, 3): x, y[, pressure] in pad units
    extra: dict[str, Any] = field(default_factory=dict, compare=False)
    name: str = field(default="", compare=False)  # the file's name, once saved or read

    def to_json(self) -> dict[str, Any]:
        doc = dict(self.extra)
        doc["label"] = int(self.label)
        doc["strokes"] = [[[round(float(v), 5) for v in p] for p in s] for s in self.strokes]
        return doc

    def xy(self) -> list[np.ndarray]:
        """The strokes as (N, 2) arrays (pressure left out)."""
        return [np.asarray(s, dtype=np.float64)[:, :2] for s in self.strokes]


def make_sample(label: int, strokes: Iterable[Sequence], **extra: Any) -> Sample:
    """A sample from strokes as the canvas holds them; raises SampleError when unusable."""
    # Rounded as the file stores them, so a sample in memory equals the one read back.
    raw = [np.round(np.asarray(s, dtype=np.float64), 5).tolist() for s in strokes]
    return _check({"label": label, "strokes": raw, **extra}, "")


def _check(doc: Any, where: str) -> Sample:
    prefix = f"{where}: " if where else ""
    if not isinstance(doc, dict):
        raise SampleError(f"{prefix}holds a JSON {type(doc).__name__}, not an object with a label and strokes.")
    label = doc.get("label")
    if isinstance(label, bool) or not isinstance(label, int) or not 0 <= label <= 9:
        raise SampleError(f"{prefix}its label must be a digit 0 to 9, not {str(label)[:20]!s}.")
    raw = doc.get("strokes")
    if not isinstance(raw, list) or not raw:
        raise SampleError(f"{prefix}it has no strokes (a list of strokes, each a list of [x, y] points).")
    strokes: list[np.ndarray] = []
    total = 0
    for i, s in enumerate(raw):
        if not isinstance(s, list) or not s:
            raise SampleError(f"{prefix}stroke {i + 1} is not a list of points.")
        total += len(s)
        if total > MAX_POINTS:
            raise SampleError(f"{prefix}it has more than {MAX_POINTS:,} points; a drawing of a digit has far fewer.")
        width = len(s[0]) if isinstance(s[0], list) else 0
        if width not in (2, 3) or any(not isinstance(p, list) or len(p) != width for p in s):
            raise SampleError(f"{prefix}stroke {i + 1} needs points of [x, y] or [x, y, pressure], all alike.")
        if any(isinstance(v, bool) or not isinstance(v, (int, float)) for p in s for v in p):
            raise SampleError(f"{prefix}stroke {i + 1} holds a point that is not numbers.")
        try:
            a = np.asarray(s, dtype=np.float64)
        except OverflowError:  # an integer beyond any float: JSON sets no limit on digits
            raise SampleError(f"{prefix}stroke {i + 1} holds a number too large to be a coordinate.") from None
        if not np.isfinite(a).all():
            raise SampleError(f"{prefix}stroke {i + 1} holds a point that is not a finite number.")
        if np.abs(a[:, :2]).max() > 10.0:
            raise SampleError(f"{prefix}stroke {i + 1} lies far outside the pad (x and y run from 0 to 1).")
        strokes.append(a)
    extra = {k: v for k, v in doc.items() if k not in ("label", "strokes")}
    _check_extra(extra, prefix)
    return Sample(label=int(label), strokes=tuple(strokes), extra=extra)


def _check_extra(extra: dict[str, Any], prefix: str) -> None:
    """Refuse a sample whose other keys take more than ``MAX_EXTRA_BYTES`` as written back.

    The other keys are kept so that a sample written by a newer version (or by the window, which
    adds ``read_as`` and ``created``) keeps them when this version imports and writes it again.
    Past the bound the sample is refused with a sentence rather than kept without them: keeping
    it would silently write a different sample than the one imported, and every other bound on
    a sample (bytes, points) refuses it too. This program writes a few dozen bytes there, so a
    sample past 64 kB is damaged or crafted, and refusing it names it to the person.
    """
    if not extra:
        return
    try:
        size = len(json.dumps(extra, separators=(",", ":")))
    except (TypeError, ValueError, RecursionError):  # from make_sample's keywords, or nested deep
        raise SampleError(f"{prefix}its keys other than label and strokes cannot be written as JSON.") from None
    if size > MAX_EXTRA_BYTES:
        raise SampleError(
            f"{prefix}its keys other than label and strokes take {size / 1024:,.0f} kB; "
            f"a sample keeps at most {MAX_EXTRA_BYTES // 1024} kB of them."
        )


def _containers_in(text: str, where: str) -> int:
    """How many JSON lists and objects ``text`` opens; refuses, before decoding, more than a
    drawing can hold.

    Decoding costs far more than counting: a 4 MB file of points takes seconds to decode on a
    busy machine, and a crafted one is nothing but points, or nothing but empty objects (which
    the other keys would keep). A bracket or brace inside a JSON string is counted too: that only
    makes the count larger, and a sample's strings hold none to speak of.
    """
    lists = text.count("[")
    if lists > 2 * MAX_POINTS + 1:  # each point is a list, each stroke one more, and the strokes one
        raise SampleError(f"{where}: it has more than {MAX_POINTS:,} points; a drawing of a digit has far fewer.")
    containers = lists + text.count("{")
    if containers > MAX_CONTAINERS:
        raise SampleError(
            f"{where}: it holds more than {MAX_CONTAINERS:,} JSON lists and objects; a drawing of a digit "
            "needs far fewer."
        )
    return containers


def read_sample(path: str | os.PathLike) -> Sample:
    """Read one sample file; raise SampleError with one sentence when it cannot be used."""
    path = Path(path)
    try:
        text = read_regular(path, MAX_SAMPLE_BYTES).decode("utf-8")
    except (NotRegular, TooLarge) as exc:
        raise SampleError(refusal(exc, path.name, "a sample file")) from None
    except UnicodeDecodeError:
        raise SampleError(f"{path.name}: not a text file, so not a sample.") from None
    except OSError as exc:
        raise SampleError(f"{path.name}: cannot be read ({exc.strerror or exc}).") from None
    _containers_in(text, path.name)
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError) as exc:
        line = getattr(exc, "lineno", None)
        raise SampleError(
            f"{path.name}: not valid JSON{f' (line {line})' if line else ''}; it may be damaged."
        ) from None
    s = _check(doc, path.name)
    return Sample(s.label, s.strokes, s.extra, path.name)


def write_sample(folder: str | os.PathLike, sample: Sample) -> Sample:
    """Write a sample as a new file in ``folder`` (atomically); return it with its file name."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    now = time.time()
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now)) + f"{now % 1:.3f}"[1:]
    name = sample.name or f"{stamp}-{sample.label}-{uuid.uuid4().hex[:8]}{SUFFIX}"
    # written beside, fsync'ed and renamed: a crash or a full disk never leaves half a sample
    write_bytes_atomic(folder / name, json.dumps(sample.to_json(), separators=(",", ":")).encode("utf-8"))
    return Sample(sample.label, sample.strokes, sample.extra, name)


def read_folder(folder: str | os.PathLike) -> tuple[list[Sample], list[str]]:
    """Every sample in a folder, oldest name first, and one sentence per file skipped."""
    folder = Path(folder)
    if not folder.is_dir():
        return [], ([f"{folder} is not a folder of samples."] if folder.exists() else [])
    samples, problems = [], []
    for p in sorted(folder.iterdir()):
        if p.suffix.lower() != SUFFIX or not p.is_file():
            continue
        try:
            samples.append(read_sample(p))
        except SampleError as exc:
            problems.append(str(exc))
    return samples, problems


def shown_problems(problems: Sequence[str]) -> list[str]:
    """The first ``MAX_PROBLEMS_SHOWN`` sentences about skipped files, and one counting the rest."""
    more = len(problems) - MAX_PROBLEMS_SHOWN
    if more <= 0:
        return list(problems)
    return [*problems[:MAX_PROBLEMS_SHOWN], f"{more:,} more file{'s were' if more > 1 else ' was'} skipped as well."]


def export_samples(samples: Sequence[Sample], dest: str | os.PathLike) -> Path:
    """Write samples to a folder, or to a zip when ``dest`` ends in .zip."""
    dest = Path(dest)
    if dest.suffix.lower() == ".zip":
        dest.parent.mkdir(parents=True, exist_ok=True)

        def write_zip(f: BinaryIO) -> None:
            with zipfile.ZipFile(f, "w", zipfile.ZIP_DEFLATED) as z:
                for i, s in enumerate(samples):
                    z.writestr(s.name or f"sample-{i:05d}-{s.label}{SUFFIX}", json.dumps(s.to_json()))

        # a zip already there is replaced only once the new one is complete
        return write_atomic(dest, write_zip)
    for s in samples:
        write_sample(dest, s)
    return dest


def _check_zip_directory(f: BinaryIO, name: str) -> None:
    """Refuse a zip whose central directory is larger, or lists more entries, than a zip of
    samples needs, before zipfile parses it (``zip_directory``). The entries are the larger of
    those the end record declares and the entry signatures in the directory (zipfile walks the
    directory by its size, not by the count). Leaves ``f`` at its start."""
    size = f.seek(0, os.SEEK_END)
    tail_start = max(0, size - TAIL_BYTES)
    f.seek(tail_start)
    found = declared(f.read())
    f.seek(0)
    if found is None:
        return  # no end record: zipfile refuses it
    if found.size > MAX_IMPORT_DIRECTORY_BYTES:
        raise SampleError(
            f"{name}: its zip directory takes {found.size / 2**20:,.1f} MB; a zip of samples needs at most "
            f"{MAX_IMPORT_DIRECTORY_BYTES // 2**20} MB."
        )
    entries, start = found.entries, tail_start + found.end - found.size
    if start >= 0:
        f.seek(start)
        entries = max(entries, f.read(found.size).count(b"PK\x01\x02"))
        f.seek(0)
    if entries > MAX_IMPORT_ENTRIES:
        raise SampleError(
            f"{name}: its zip directory lists {entries:,} entries; a zip of samples needs at most "
            f"{MAX_IMPORT_ENTRIES:,}."
        )


def import_samples(src: str | os.PathLike) -> tuple[list[Sample], list[str]]:
    """Samples from a folder or a zip of sample files, and one sentence per file skipped."""
    src = Path(src)
    if src.is_dir():
        return read_folder(src)
    try:
        # only a regular file is opened, and without blocking: a pipe or a device named
        # samples.zip would otherwise hang the import or read until memory runs out
        f = open_regular(src, MAX_IMPORT_ZIP_BYTES)
    except (NotRegular, TooLarge) as exc:
        raise SampleError(refusal(exc, src.name, "a zip of samples")) from None
    except OSError as exc:
        raise SampleError(f"{src.name}: neither a folder nor a readable zip of samples ({exc}).") from None
    try:
        _check_zip_directory(f, src.name)  # before zipfile reads and parses the whole directory
        z = zipfile.ZipFile(f)
    except SampleError:
        f.close()
        raise
    except (OSError, zipfile.BadZipFile, ValueError) as exc:
        f.close()
        raise SampleError(f"{src.name}: neither a folder nor a readable zip of samples ({exc}).") from None
    samples: list[Sample] = []
    problems: list[str] = []
    read_bytes = files = points = 0
    with f, z:
        for info in z.infolist():
            name = Path(info.filename).name
            if info.is_dir() or not name.lower().endswith(SUFFIX):
                continue
            files += 1  # skipped or not: each skip costs a sentence
            too_large = info.file_size > MAX_SAMPLE_BYTES
            if not too_large:
                read_bytes += info.file_size
            if files > MAX_IMPORT_FILES or read_bytes > MAX_IMPORT_BYTES or points > MAX_IMPORT_POINTS:
                problems.insert(  # first, so that it is among the sentences shown
                    0,
                    f"{src.name}: only the first {files - 1:,} sample files were read; a zip of samples holds "
                    f"at most {MAX_IMPORT_FILES:,} files, {MAX_IMPORT_BYTES // 2**20} MB "
                    f"and {MAX_IMPORT_POINTS:,} points.",
                )
                break
            if too_large:
                problems.append(f"{name}: too large for a sample file.")
                continue
            if info.flag_bits & 0x1:
                problems.append(f"{name}: encrypted (it needs a password), so it cannot be read.")
                continue
            try:
                text = z.read(info).decode("utf-8")
                points += _containers_in(text, name)
                doc = json.loads(text)
                s = _check(doc, name)
            except SampleError as exc:
                problems.append(str(exc))
                continue
            except (NotImplementedError, RuntimeError):  # a compression method zipfile lacks
                problems.append(f"{name}: compressed in a way this program cannot read.")
                continue
            except (ValueError, RecursionError, zipfile.BadZipFile, OSError, EOFError):
                problems.append(f"{name}: not valid JSON; it may be damaged.")
                continue
            samples.append(Sample(s.label, s.strokes, s.extra, ""))
    return samples, problems
