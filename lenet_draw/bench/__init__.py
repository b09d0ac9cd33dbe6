"""Measurement: ``lenet-draw bench``, the drawn-digit proxy, latency and launch probes.

The app never imports this package (the bench injects what it needs, e.g. the launch probe
through ``run_app(on_window=...)``) and the packaged app leaves it out."""
