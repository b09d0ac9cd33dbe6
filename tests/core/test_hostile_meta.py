"""A weights file's ``meta`` holding what JSON cannot write (a tensor, bytes, NaN, a huge
integer): the weights load, only the JSON-able part of meta is kept, and saving or exporting
them, as .pt or .safetensors, works and reads back the same. It used to load whole, and saving
personalised weights as .safetensors then raised TypeError in json.dumps."""

from __future__ import annotations

import json
import struct

import pytest
import torch

from lenet_draw.cli import main
from lenet_draw.json_meta import MAX_META_DEPTH, MAX_META_INT, MAX_META_JSON, json_meta
from lenet_draw.model import LeNet5
from lenet_draw.personalise import export
from lenet_draw.samples import make_sample, write_sample
from lenet_draw.weights import MAX_METADATA_TEXT, Weights, load_weights, save_weights

HOSTILE_META = {
    "trained_on": torch.zeros(1),
    "raw": b"\x00\x01",  # pickled as bytes from protocol 3 on (protocol 2 calls a function: refused)
    "nan": float("nan"),
    "inf": float("-inf"),
    "huge": 10**100,
    "too_big": MAX_META_INT + 1,
    "shape": (1, 32, 32),  # a tuple: kept as a list
    "mixed": [1, torch.ones(2)],  # a list with a tensor in it: dropped whole
    "nested": {"ok": "yes", "t": torch.zeros(3), 7: "an int key", "deeper": {"nan": float("nan"), "n": 3}},
    "deep": [[[[[[[[[[1]]]]]]]]]],
    "test_accuracy": 98.25,
    "epochs": 3,
    "note": "ok",
    "flag": True,
    "nothing": None,
    "largest": -MAX_META_INT,
}
#: What is kept of HOSTILE_META.
KEPT = {
    "shape": [1, 32, 32],
    "nested": {"ok": "yes", "deeper": {"n": 3}},
    "test_accuracy": 98.25,
    "epochs": 3,
    "note": "ok",
    "flag": True,
    "nothing": None,
    "largest": -MAX_META_INT,
}


@pytest.fixture
def hostile_pt(tmp_path):
    torch.manual_seed(0)
    path = tmp_path / "meta_tensor.pt"
    torch.save({"state_dict": LeNet5().state_dict(), "meta": HOSTILE_META}, path, pickle_protocol=4)
    return path


@pytest.mark.parametrize("suffix", [".safetensors", ".pt"])
def test_the_reported_file_loads_and_saves(tmp_path, suffix):
    """The review's file: torch.save's default pickle, a tensor its meta's one value."""
    torch.manual_seed(0)
    path = tmp_path / "meta_tensor.pt"
    torch.save({"state_dict": LeNet5().state_dict(), "meta": {"trained_on": torch.zeros(1)}}, path)
    w = load_weights(path)
    assert w.meta == {}
    out = save_weights(tmp_path / f"out{suffix}", w.state_dict, w.convention, dict(w.meta, note="n"))
    assert load_weights(out).meta == {"note": "n"}


def test_a_checkpoint_whose_meta_holds_a_tensor_loads_with_the_json_part(hostile_pt):
    w = load_weights(hostile_pt)
    assert w.meta == KEPT
    assert w.test_accuracy == 98.25
    json.dumps(w.meta, allow_nan=False)  # plain JSON


@pytest.mark.parametrize("suffix", [".safetensors", ".pt"])
def test_such_weights_save_and_read_back_the_same(tmp_path, hostile_pt, suffix):
    w = load_weights(hostile_pt)
    out = save_weights(tmp_path / f"again{suffix}", w.state_dict, w.convention, w.meta)
    assert load_weights(out).meta == KEPT


@pytest.mark.parametrize("suffix", [".safetensors", ".pt"])
def test_saving_never_fails_on_meta(tmp_path, suffix):
    """Meta given straight to save_weights (as the window and adapt do) is cleaned there too."""
    torch.manual_seed(0)
    out = save_weights(tmp_path / f"w{suffix}", LeNet5().state_dict(), meta=HOSTILE_META)
    assert load_weights(out).meta == KEPT


@pytest.mark.parametrize("suffix", [".safetensors", ".pt"])
def test_exporting_personalised_weights_works(tmp_path, hostile_pt, suffix):
    base = load_weights(hostile_pt)
    meta = dict(base.meta, note="adapted from meta_tensor.pt with 1 samples", raw=b"x", t=torch.zeros(1))
    out = export(Weights(base.state_dict, base.convention, meta, base.source), tmp_path / f"mine{suffix}")
    expected = dict(KEPT, note="adapted from meta_tensor.pt with 1 samples")
    assert load_weights(out).meta == expected


def test_adapt_on_the_command_line_exports_safetensors(tmp_path, hostile_pt, capsys):
    samples = tmp_path / "samples"
    for d in range(2):
        write_sample(samples, make_sample(d, [[[0.3, 0.2], [0.7, 0.8]], [[0.5, 0.1], [0.5, 0.9]]]))
    out = tmp_path / "mine.safetensors"
    assert main(["adapt", "--weights", str(hostile_pt), "--out", str(out), str(samples)]) == 0
    meta = load_weights(out).meta
    assert meta["note"] == "adapted from meta_tensor.pt with 2 samples"
    assert meta["nested"] == KEPT["nested"] and "trained_on" not in meta


def _safetensors_with_meta(path, meta_text: str):
    """A valid LeNet-5 .safetensors whose metadata "meta" text is ``meta_text``, as written."""
    from safetensors.torch import save

    torch.manual_seed(0)
    data = save(dict(LeNet5().state_dict()), metadata={"meta": "PLACEHOLDER"})
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    header["__metadata__"]["meta"] = meta_text
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + data[8 + n :])
    return path


def test_safetensors_meta_is_kept_to_its_json_part(tmp_path):
    # json.loads reads NaN and Infinity; they are not JSON and are dropped like the others
    text = '{"nan": NaN, "inf": Infinity, "big": 1e999, "huge": ' + "9" * 30 + ', "deep": '
    text += "[" * (MAX_META_DEPTH + 2) + "]" * (MAX_META_DEPTH + 2) + ', "ok": [1, "a", {"b": null}]}'
    path = _safetensors_with_meta(tmp_path / "w.safetensors", text)
    w = load_weights(path)
    assert w.meta == {"ok": [1, "a", {"b": None}]}
    again = save_weights(tmp_path / "again.safetensors", w.state_dict, w.convention, w.meta)
    assert load_weights(again).meta == w.meta


@pytest.mark.parametrize("suffix", [".safetensors", ".pt"])
def test_meta_too_long_for_the_metadata_is_cut_to_what_reads_back(tmp_path, suffix):
    torch.manual_seed(0)
    meta = {"a": "x" * 10_000, "b": "y" * 100_000, "c": 1}
    out = save_weights(tmp_path / f"w{suffix}", LeNet5().state_dict(), meta=meta)
    # b used to be saved too: 110 kB of metadata, which a .safetensors reader takes as no meta
    assert load_weights(out).meta == {"a": "x" * 10_000, "c": 1}


def test_loaded_meta_leaves_room_for_what_personalising_adds(tmp_path):
    """What a file's meta keeps is a quarter of what a save may write: the note and the
    fingerprint added to the largest loaded meta are still saved and read back."""
    torch.manual_seed(0)
    big = {f"k{i}": "v" * 1000 for i in range(40)}  # 40 kB
    first = save_weights(tmp_path / "big.safetensors", LeNet5().state_dict(), meta=big)
    w = load_weights(first)
    assert 0 < len(json.dumps(w.meta)) <= MAX_META_JSON and list(w.meta) == list(big)[: len(w.meta)]
    added = dict(w.meta, note="adapted", fingerprint="f" * 32)
    again = load_weights(save_weights(tmp_path / "again.pt", w.state_dict, w.convention, added))
    assert again.meta["note"] == "adapted" and again.meta["fingerprint"] == "f" * 32


def test_json_meta_stays_within_its_limit_and_never_raises():
    loop: list = []
    loop.append(loop)  # a list inside itself
    wide = {str(i): i for i in range(200_000)}  # more values than are looked at: cut short
    meta = {"loop": loop, "s": "é" * 10, "set": {1, 2}, "obj": object(), "keep": [0.5, "z"], "wide": wide}
    for limit in range(0, 200, 3):
        got = json_meta(meta, limit)
        assert len(json.dumps(got, allow_nan=False)) <= max(limit, 2)
    got = json_meta(meta, MAX_METADATA_TEXT)
    assert "loop" not in got and "set" not in got and "obj" not in got
    assert got["s"] == "é" * 10 and got["keep"] == [0.5, "z"]
    assert 0 < len(got["wide"]) < len(wide)
    assert len(json.dumps(got)) <= MAX_METADATA_TEXT
    assert json_meta(["not", "a", "mapping"]) == {} and json_meta(None) == {}


def test_what_a_personalisation_adds_survives_a_base_with_a_large_meta(tmp_path):
    """Meta is cut to MAX_META_JSON when loaded; the keys the app reads (the note, the samples'
    fingerprint that lets the saved adaptation be reused) are kept first, whatever else it holds."""
    base_meta = {f"epoch_{i:03d}_loss": 0.123456789 + i for i in range(600)}  # a per-epoch log, > 16 kB
    base = load_weights(save_weights(tmp_path / "base.pt", LeNet5().state_dict(), meta=base_meta))
    assert len(json.dumps(base.meta)) <= MAX_META_JSON < len(json.dumps(base_meta))
    meta = dict(base.meta, note="adapted from base.pt with 3 samples", adapted_from="base.pt", samples=3)
    meta["fingerprint"] = "0123456789abcdef"
    again = load_weights(save_weights(tmp_path / "adapted.pt", LeNet5().state_dict(), meta=meta))
    assert again.meta["fingerprint"] == "0123456789abcdef"
    assert again.meta["note"] == "adapted from base.pt with 3 samples" and again.meta["samples"] == 3
