"""The errors a person can cause by what they open or ask for: each one's ``str()`` is one
plain sentence for a dialog or the command line. No torch, no Qt: the GUI catches them
without importing the modules that raise them."""

from __future__ import annotations


class WeightsError(ValueError):
    """A weights file cannot be used; ``str(err)`` says why in plain words."""


class DeviceError(ValueError):
    """A compute device was asked for that this machine cannot provide."""


class ImageError(ValueError):
    """An image file cannot be used; ``str(err)`` says why in plain words."""


class LoadCancelled(Exception):
    """Loading a file was cancelled by the person (not an error to show)."""


class OutputPathError(ValueError):
    """An output path cannot be written; ``str(err)`` says why in one sentence."""


class NumberError(ValueError):
    """Ink that cannot be read as a number (far too many separate marks); ``str(err)`` says why."""
