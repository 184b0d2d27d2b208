"""What a benchmark measures and how: :class:`BenchmarkConfig`, checked when it is made."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ..errors import ConfigError
from ..export.exporter import ExportConfig
from ..export.formats import Hardware, hardware as hardware_entry


@dataclass(frozen=True)
class BenchmarkConfig:
    """How to benchmark a dense and a pruned model side by side.

    Attributes:
        hardware: where the models deploy (a ``yoloprune.export.formats.HARDWARE`` name): ``intel-cpu`` is
            measured on this machine; ``jetson``, ``iphone`` and ``mac`` get a device bundle to run there.
        formats: the exports timed beside PyTorch, e.g. ``"onnx,openvino:int8"`` (a bare name: all its
            precisions); a device bundle ships its hardware's own formats instead.
        imgsz: input size in pixels (batch 1).
        threads: CPU threads every runtime is given.
        warmup: untimed runs of each model before timing.
        runs: timed rounds; each round runs every model of one format once, in a shuffled order.
        export_args: further Ultralytics ``export`` arguments (``opset``, ``simplify``, ...), passed through.
    """

    hardware: str = "intel-cpu"
    formats: str = "openvino"
    imgsz: int = 640
    threads: int = 2
    warmup: int = 10
    runs: int = 50
    export_args: Mapping = field(default_factory=dict)

    def __post_init__(self):
        hardware_entry(self.hardware)  # unknown hardware: a ConfigError listing the known ones
        export = self.export  # checks formats, imgsz and export_args as an export does
        object.__setattr__(self, "formats", export.formats)
        object.__setattr__(self, "export_args", export.export_args)
        for name, least, hint in (("threads", 1, "threads=2"), ("warmup", 0, "warmup=10"), ("runs", 1, "runs=50")):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise ConfigError(f"{name}={value!r} is invalid: a whole number >= {least}, e.g. {hint}")

    @property
    def device(self) -> Hardware:
        """The hardware's entry: its format, and whether it is measured here or gets a bundle."""
        return hardware_entry(self.hardware)

    @property
    def export(self) -> ExportConfig:
        """The exports to make of each model (each checked against PyTorch)."""
        return ExportConfig(formats=self.formats, imgsz=self.imgsz, parity=True, export_args=self.export_args)
