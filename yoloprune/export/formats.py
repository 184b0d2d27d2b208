"""The one format table: validation, the CLI, the exporters and the benchmarks all read it."""

from __future__ import annotations

import contextlib
import importlib.util
import platform
from dataclasses import dataclass

from ..errors import ConfigError


@dataclass(frozen=True)
class ExportFormat:
    name: str  # Ultralytics' format argument
    suffix: str  # file or folder suffix Ultralytics writes
    precisions: tuple[str, ...]  # what we export: fp32 / bf16 / fp16 / int8
    backend: str  # Python module that must import to export
    runtime: str  # Python module that must import to run the export here
    target: str  # the device it is for: intel-cpu, jetson, iphone, any
    runs_here: str  # "yes", or why it cannot run on this machine kind
    extra: str  # pip extra that installs it

    def check_backend(self) -> None:
        """Raise one clear error when the export backend is not installed."""
        if importlib.util.find_spec(self.backend) is None:
            raise ConfigError(f"format {self.name!r} needs the {self.backend!r} package: pip install 'yoloprune[{self.extra}]'")

    def why_not_runnable(self) -> str | None:
        """None when exported models of this format can be executed here, else the reason."""
        if self.name == "coreml" and platform.system() != "Darwin":
            return "CoreML prediction needs macOS (the model converts and its spec is checked here)"
        if self.name == "engine":
            import torch  # noqa: PLC0415

            if not torch.cuda.is_available():
                return "TensorRT engines need an NVIDIA GPU (none on this machine)"
        if importlib.util.find_spec(self.runtime) is None:
            return f"runtime {self.runtime!r} is not installed"
        return None

    def precision_unavailable(self, precision: str) -> str | None:
        """Why this machine cannot run ``precision`` of this format (None when it can, or cannot tell)."""
        if self.name == "openvino" and precision == "bf16" and importlib.util.find_spec("openvino") is not None:
            from .openvino_precision import cpu_capabilities, unsupported  # noqa: PLC0415

            return unsupported(precision, cpu_capabilities())
        return None

    def precision_scope(self, precision: str):
        """Context in which Ultralytics' own runtime (validation, parity) computes in ``precision``; yields
        a list that collects the compute precision each compiled model reported ([] where not applicable)."""
        if self.name == "openvino":
            from .openvino_precision import forced_precision  # noqa: PLC0415

            return forced_precision(precision)
        return contextlib.nullcontext([])


FORMATS: dict[str, ExportFormat] = {
    f.name: f
    for f in (
        ExportFormat("onnx", ".onnx", ("fp32",), "onnx", "onnxruntime", "any", "yes", "export"),
        ExportFormat("openvino", "_openvino_model", ("fp32", "bf16", "fp16", "int8"), "openvino", "openvino", "intel-cpu", "yes", "export"),
        ExportFormat("coreml", ".mlpackage", ("fp16", "int8"), "coremltools", "coremltools", "iphone", "macOS", "export"),
        ExportFormat("engine", ".engine", ("fp16", "int8"), "tensorrt", "tensorrt", "jetson", "NVIDIA GPU", "tensorrt"),
    )
}

# Ultralytics' quantize= argument per precision (bf16: an FP32 IR that OpenVINO computes in bf16)
QUANTIZE = {"fp32": None, "bf16": None, "fp16": 16, "int8": 8}
TARGETS = {"intel-cpu": "openvino", "jetson": "engine", "iphone": "coreml"}


def parse_formats(spec) -> list[tuple[ExportFormat, str]]:
    """``"onnx,openvino:int8,coreml"`` -> [(format, precision), ...]; a bare name means all its precisions."""
    items = spec.split(",") if isinstance(spec, str) else list(spec)
    out = []
    for item in (str(i).strip() for i in items if str(i).strip()):
        name, _, precision = item.partition(":")
        if name not in FORMATS:
            raise ConfigError(f"unknown format {name!r}: use one of {', '.join(FORMATS)} (optionally name:precision)")
        fmt = FORMATS[name]
        if precision and precision not in fmt.precisions:
            raise ConfigError(f"format {name!r} supports precisions {', '.join(fmt.precisions)}, not {precision!r}")
        out += [(fmt, p) for p in ([precision] if precision else fmt.precisions)]
    if not out:
        raise ConfigError("no export format given: e.g. format=onnx,openvino:int8")
    return out
