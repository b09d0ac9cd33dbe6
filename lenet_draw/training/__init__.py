"""Training and evaluation: MNIST reading, augmentation, style and scribble synthesis, the
training loop. Used by ``lenet-draw train`` and ``eval`` from a Python install; the app never
imports it and the packaged app leaves it out."""
