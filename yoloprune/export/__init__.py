"""Export and deployment: the format table (``formats``, with per-format hooks), OpenVINO's precision
control (``openvino_precision``), the exporter (``exporter``), checks against PyTorch (``parity``),
benchmarks (``benchmark``) and device bundles (``bundle``, shipping ``device_bench.py``)."""
