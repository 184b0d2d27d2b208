"""Export: the format table (``formats``, with per-format hooks), OpenVINO's precision control
(``openvino_precision``), the exporter (``exporter``) and checks against PyTorch (``parity``)."""
