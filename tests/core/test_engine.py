import numpy as np
import pytest

from lenet_draw import devices
from lenet_draw.engine import Engine
from lenet_draw.model import LAYER_NAMES, LAYER_SHAPES


def ring(cx=100, cy=100, rx=40, ry=60, n=120):
    t = np.linspace(0, 2 * np.pi, n)
    return [np.c_[cx + rx * np.cos(t), cy + ry * np.sin(t)]]


def test_empty_drawing_gets_no_prediction(engine):
    assert engine.predict_strokes([]) is None
    assert engine.predict_strokes([[]]) is None


def test_prediction_carries_probabilities_stages_and_every_activation(engine):
    p = engine.predict_strokes(ring())
    assert p.probabilities.shape == (10,)
    assert p.probabilities.sum() == pytest.approx(1.0, abs=1e-5)
    assert p.digit == int(np.argmax(p.probabilities))
    assert p.confidence == pytest.approx(p.probabilities.max())
    assert list(p.activations) == list(LAYER_NAMES)
    for name in LAYER_NAMES:
        assert p.activations[name].shape == LAYER_SHAPES[name]
    assert p.stages.input.shape == (32, 32)
    assert [d for d, _ in p.top(3)] == list(np.argsort(-p.probabilities)[:3])
    assert p.top() == p.top(3)  # three unless asked: what `lenet-draw predict` prints


def test_activations_can_be_left_out_with_the_same_answer(engine):
    a = engine.predict_strokes(ring(), activations=True)
    b = engine.predict_strokes(ring(), activations=False)
    assert b.activations == {}
    assert np.allclose(a.probabilities, b.probabilities, atol=1e-6)


def test_batch_and_single_predictions_agree(engine):
    p = engine.predict_strokes(ring())
    batch = engine.probabilities(np.stack([p.stages.input] * 3))
    assert np.allclose(batch, p.probabilities[None], atol=1e-5)


def test_images_in_any_numeric_type_read_the_same(engine):
    """A batch of float64 images (what numpy gives by default) or of 0/1 integers is read as the
    float32 images the app makes."""
    p = engine.predict_strokes(ring())
    images = np.stack([p.stages.input] * 2)
    want = engine.probabilities(images)
    np.testing.assert_allclose(engine.probabilities(images.astype(np.float64)), want, atol=1e-6)
    np.testing.assert_allclose(engine.probabilities_live(images.astype(np.float64)), want, atol=1e-6)
    binary = (images > 0.5).astype(np.int64)
    np.testing.assert_allclose(engine.probabilities(binary), engine.probabilities(binary.astype(np.float32)), atol=1e-6)


def test_the_preprocessing_time_reported_is_the_time_it_took(engine):
    """Shown in the status bar: positive (rendering a digit takes well over 10 microseconds) and
    no longer than the whole call."""
    import time

    t0 = time.perf_counter()
    p = engine.predict_strokes(ring(), activations=False)
    wall_ms = (time.perf_counter() - t0) * 1e3
    assert 0.01 < p.preprocess_ms < wall_ms
    assert p.preprocess_ms + p.inference_ms <= wall_ms


def test_unknown_or_missing_devices_are_refused_clearly():
    with pytest.raises(devices.DeviceError, match="Unknown device"):
        devices.resolve("tpu")
    if not any(d.startswith("cuda") for d in devices.available_devices()):
        with pytest.raises(devices.DeviceError, match="no usable CUDA"):
            Engine(device="cuda")


def test_cpu_is_always_available_and_auto_picks_the_best():
    avail = devices.available_devices()
    assert avail[-1] == "cpu"
    assert devices.resolve("auto") == avail[0]


def test_accelerators_agree_with_the_cpu():
    accelerators = [d for d in devices.available_devices() if d != "cpu"]
    if not accelerators:
        pytest.skip("no CUDA or MPS device on this machine: nothing to compare the CPU with")
    cpu = Engine(device="cpu")
    other = Engine(device=accelerators[0])
    images = np.random.default_rng(0).random((64, 32, 32)).astype(np.float32)
    assert np.abs(cpu.probabilities(images) - other.probabilities(images)).max() < 1e-5
    a = cpu.predict_strokes(ring())
    b = other.predict_strokes(ring())
    assert np.abs(a.probabilities - b.probabilities).max() < 1e-5


def test_switching_device_keeps_the_answer(engine):
    before = engine.predict_strokes(ring()).probabilities
    for dev in devices.available_devices():
        engine.set_device(dev)
        assert np.abs(engine.predict_strokes(ring()).probabilities - before).max() < 1e-5
    engine.set_device("cpu")


def test_one_image_and_batch_paths_agree(engine, mnist_test):
    """Single predictions skip oneDNN; batches use it: both must give the same answers."""
    from lenet_draw.preprocess import preprocess_image

    for i in range(0, 200, 7):
        stages = preprocess_image(mnist_test.images[i])
        single = engine.predict_stages(stages).probabilities
        batch = engine.probabilities(np.stack([stages.input] * 3))
        assert np.abs(single - batch).max() < 1e-5
