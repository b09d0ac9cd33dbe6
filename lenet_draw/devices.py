"""Which compute devices this machine has, and choosing one."""

from __future__ import annotations

import torch

from lenet_draw.errors import DeviceError


def available_devices() -> list[str]:
    """Devices usable here, best first; "cpu" is always last."""
    found = []
    try:
        if torch.cuda.is_available():
            found += [
                f"cuda:{i}" if torch.cuda.device_count() > 1 else "cuda" for i in range(torch.cuda.device_count())
            ]
    except Exception:  # a broken driver must not stop the app
        pass
    try:
        if torch.backends.mps.is_available():
            found.append("mps")
    except Exception:
        pass
    return found + ["cpu"]


def describe(device: str) -> str:
    """A human name: "CPU", "CUDA (NVIDIA H100)", "MPS (Apple GPU)"."""
    if device.startswith("cuda"):
        try:
            return f"CUDA ({torch.cuda.get_device_name(torch.device(device))})"
        except Exception:
            return "CUDA"
    if device == "mps":
        return "MPS (Apple GPU)"
    return "CPU"


def resolve(name: str | None) -> str:
    """ "auto" or None -> the best available; otherwise check the named one exists."""
    if name in (None, "", "auto"):
        return available_devices()[0]
    name = name.lower()
    if name == "cpu":
        return "cpu"
    if name.startswith("cuda"):
        if not any(d.startswith("cuda") for d in available_devices()):
            raise DeviceError(
                "CUDA was asked for but this machine has no usable CUDA GPU (or torch was built without CUDA)."
            )
        return name
    if name == "mps":
        if "mps" not in available_devices():
            raise DeviceError("MPS was asked for but is not available on this machine.")
        return name
    raise DeviceError(f"Unknown device {name!r}; use auto, cpu, cuda or mps.")
