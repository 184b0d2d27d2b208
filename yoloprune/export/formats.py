"""The one format table: validation, the CLI, the exporters, the benchmarks and the device bundles read it.

Everything that differs between formats lives in the entries below (fields and per-format hooks);
no other module branches on a format's name. ``PYTORCH`` is the checkpoint itself, the baseline a
benchmark times beside the exports. ``HARDWARE`` says which format each deployment target
runs and what its device bundle ships.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import platform
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, ContextManager

import numpy as np
import torch
from ultralytics import YOLO

from ..errors import ConfigError
from ..io import replace_path, write_text_atomic
from .networks import coreml_conv_network, onnx_conv_network


# ----------------------------------------------------------------------------- per-format hooks
def _runtime_missing(module: str) -> str | None:
    return None if importlib.util.find_spec(module) is not None else f"runtime {module!r} is not installed"


def _any_host() -> str | None:
    return None


def _macos() -> str | None:
    if platform.system() != "Darwin":
        return "CoreML prediction needs macOS (the model converts and its spec is checked here)"
    return None


def _nvidia_gpu() -> str | None:
    if not torch.cuda.is_available():
        return "TensorRT engines need an NVIDIA GPU (none on this machine)"
    return None


def _every_precision(precision: str) -> str | None:
    return None


def _openvino_unavailable(precision: str) -> str | None:
    """bf16 needs a CPU with bf16 support; the rest runs on every CPU."""
    if precision != "bf16" or importlib.util.find_spec("openvino") is None:
        return None
    from .openvino_precision import cpu_capabilities, unsupported  # noqa: PLC0415 (optional backend)

    return unsupported(precision, cpu_capabilities())


def _no_scope(precision: str):
    return contextlib.nullcontext([])


def _openvino_scope(precision: str):
    from .openvino_precision import forced_precision  # noqa: PLC0415 (optional backend)

    return forced_precision(precision)


def _no_metadata_slot(path: Path, text: str) -> None:
    return None


def _as_exported(path: Path, record: dict) -> None:
    return None


def _nothing_to_check(path: Path) -> None:
    return None


def _embed_onnx(path: Path, text: str) -> None:
    import onnx  # noqa: PLC0415 (optional backend)

    model = onnx.load(str(path))
    props = [p for p in model.metadata_props if p.key != "yoloprune"]
    del model.metadata_props[:]
    model.metadata_props.extend(props)
    model.metadata_props.add(key="yoloprune", value=text)
    tmp = path.with_name(f".{path.name}.tmp")
    onnx.save(model, str(tmp))
    os.replace(tmp, path)


def _embed_coreml(path: Path, text: str) -> None:
    import coremltools as ct  # noqa: PLC0415 (optional backend)

    model = ct.models.MLModel(str(path), skip_model_load=True)
    model.user_defined_metadata["yoloprune"] = text
    tmp = path.with_name(f"tmp-{path.name}")  # saving over the package it was read from deletes its weights
    model.save(str(tmp))
    replace_path(tmp, path)


def _compress_coreml(path: Path, record: dict) -> None:
    """A checkpoint with unstructured sparsity: store its zeroed weights sparse (coremltools' weight pruning
    with a zero threshold changes no value, only the storage)."""
    if (record.get("yoloprune") or {}).get("method") != "unstructured":
        return
    import coremltools as ct  # noqa: PLC0415 (optional backend)
    from coremltools.optimize.coreml import OpThresholdPrunerConfig, OptimizationConfig, prune_weights  # noqa: PLC0415

    model = ct.models.MLModel(str(path), skip_model_load=True)
    config = OptimizationConfig(global_config=OpThresholdPrunerConfig(threshold=1e-12, minimum_sparsity_percentile=0.3,
                                                                      weight_threshold=1024))
    sparse = prune_weights(model, config=config)
    tmp = path.with_name(f"tmp-{path.name}")
    sparse.save(str(tmp))
    replace_path(tmp, path)


@dataclass(frozen=True)
class CoreMLSpec:
    """What was checked of a CoreML model where it cannot run (no macOS): its input, op set and weight storage."""

    input: str
    input_hw: list[int]  # [height, width] of the image input ([] for a tensor input)
    ops: list[str]
    n_ops: int
    spec_version: int
    const_dtypes: list[int]  # the weights' storage types (coremltools' enum values)
    sparse_weights: int  # ops that store their weights sparse

    def to_dict(self) -> dict:
        return asdict(self)


def coreml_spec(path: Path) -> CoreMLSpec:
    """What can be checked of a CoreML model without macOS: input shape, weight precision, op set."""
    import coremltools as ct  # noqa: PLC0415 (optional backend)

    model = ct.models.MLModel(str(path), skip_model_load=True)
    spec = model.get_spec()
    image = spec.description.input[0]
    shape = [image.type.imageType.height, image.type.imageType.width] if image.type.HasField("imageType") else []
    ops, dtypes = set(), set()
    if spec.WhichOneof("Type") == "mlProgram":
        for fn in spec.mlProgram.functions.values():
            for block in fn.block_specializations.values():
                for op in block.operations:
                    ops.add(op.type)
                    if op.type == "const":
                        for v in op.attributes.values():
                            if v.HasField("immediateValue") or v.HasField("blobFileValue"):
                                dtypes.add(int(v.type.tensorType.dataType))
    sparse = sum(1 for fn in spec.mlProgram.functions.values() for block in fn.block_specializations.values()
                 for op in block.operations if "sparse" in op.type) if spec.WhichOneof("Type") == "mlProgram" else 0
    return CoreMLSpec(input=image.name, input_hw=shape, ops=sorted(ops), n_ops=len(ops),
                      spec_version=spec.specificationVersion, const_dtypes=sorted(dtypes), sparse_weights=sparse)


def _onnx_runner(path: Path, precision: str, imgsz: int, threads: int, shape: tuple | None = None):
    import onnxruntime as ort  # noqa: PLC0415 (optional backend)

    x = _timing_input(imgsz, shape)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads, opts.inter_op_num_threads = threads, 1
    opts.add_session_config_entry("session.set_denormal_as_zero", "1")
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")  # idle spinners would slow the model timed next
    sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    return (lambda: sess.run(None, {name: x})), "fp32"


def _openvino_runner(path: Path, precision: str, imgsz: int, threads: int, shape: tuple | None = None):
    from .openvino_precision import compile_ir  # noqa: PLC0415 (optional backend)

    x = _timing_input(imgsz, shape)
    compiled, ran = compile_ir(path, precision, threads, extra={"CPU_DENORMALS_OPTIMIZATION": True})
    request = compiled.create_infer_request()
    weights = "fp32" if precision == "bf16" else precision  # the bf16 row runs the FP32 IR with a bf16 hint
    return (lambda: request.infer({0: x})), f"{weights} weights, {ran} compute"


def _pytorch_runner(path: Path, precision: str, imgsz: int, threads: int, shape: tuple | None = None):
    if torch.get_num_threads() != threads:  # re-setting the same count made convs 20x slower here (measured)
        torch.set_num_threads(threads)
    torch.set_flush_denormal(True)  # denormals (common in barely trained weights) would dominate CPU timings
    model = YOLO(str(path)).model.float().eval().fuse()
    x = torch.from_numpy(_timing_input(imgsz, shape))

    def run():
        with torch.inference_mode():
            model(x)

    return run, "fp32"


def _timing_input(imgsz: int, shape: tuple | None = None) -> np.ndarray:
    """The input a model is timed with: an image batch of 1 at ``imgsz``, or a tensor of ``shape`` (one layer)."""
    return np.random.default_rng(0).random(shape or (1, 3, imgsz, imgsz), dtype=np.float32)


# ----------------------------------------------------------------------------- the table
@dataclass(frozen=True)
class ExportFormat:
    """One format: what Ultralytics exports, what must be installed, and every way it differs from the others.

    The hook fields are called as they are (``fmt.precision_scope("fp32")``); each has a default that
    does nothing, so no caller needs to ask whether a format has one. ``runner`` is the exception: None
    says that this format's models are not timed on this machine.
    """

    name: str  # Ultralytics' format argument
    suffix: str  # file or folder suffix Ultralytics writes
    precisions: tuple[str, ...]  # what we export: fp32 / bf16 / fp16 / int8
    backend: str  # Python module that must import to export
    runtime: str  # Python module that must import to run the export here
    extra: str  # pip extra that installs it ("" where yoloprune's own requirements do)
    int8_calibrates: bool = True  # int8 is calibrated on real images (data=); False: weights-only quantisation
    # why this machine cannot run its models besides a missing runtime (no macOS, no NVIDIA GPU); None: it can
    host_check: Callable[[], str | None] = _any_host
    # why this machine cannot run one precision of it (bf16 on a CPU without bf16); None: it can, or cannot tell
    precision_unavailable: Callable[[str], str | None] = _every_precision
    # context in which the runtime (Ultralytics' validator, parity) computes in that precision; it yields a list
    # that collects the compute precision each compiled model reported ([] where the runtime has no such choice)
    precision_scope: Callable[[str], ContextManager[list]] = _no_scope
    write_metadata: Callable[[Path, str], None] = _no_metadata_slot  # the record's JSON into the file's own slot
    offline_check: Callable[[Path], CoreMLSpec | None] = _nothing_to_check  # what can be checked where it cannot run
    # (path, precision, imgsz, threads[, shape=input shape of a one-layer network]) -> (fn, precision)
    runner: Callable[..., tuple] | None = None
    compress: Callable[[Path, dict], None] = _as_exported  # after export: the storage the checkpoint's record asks for
    compute_units: tuple[str, ...] = ()  # the runtime's choice of processors (first: its default); () none
    # (shape, path, copies, precision) -> path: a one-layer network of this format that a per-layer latency table
    # times (yoloprune.export.networks); None: its runtime times no such networks
    layer_network: Callable[..., Path] | None = None

    def units(self, asked: str | None = None) -> str:
        """The compute units a latency table of this format is keyed by: ``asked`` checked, else the runtime's
        default; "" for a runtime without that choice (asking one there is an error)."""
        if asked is None:
            return self.compute_units[0] if self.compute_units else ""
        if not self.compute_units:
            raise ConfigError(f"compute_units={asked}: {self.name} has no compute units to choose (CoreML has: "
                              "hardware=mac|iphone format=coreml:...)")
        name = str(asked).strip().upper().replace("-", "_").replace(" ", "_").replace("NEURAL_ENGINE", "NE")
        if name not in self.compute_units:  # (Xcode's labels too: "CPU and Neural Engine" -> CPU_AND_NE)
            raise ConfigError(f"compute_units={asked}: use one of {', '.join(self.compute_units)}")
        return name

    def check_backend(self) -> None:
        """Raise one clear error when the export backend is not installed."""
        if importlib.util.find_spec(self.backend) is None:
            raise ConfigError(f"format {self.name!r} needs the {self.backend!r} package: pip install 'yoloprune[{self.extra}]'")

    def why_not_runnable(self) -> str | None:
        """None when exported models of this format can be executed here, else the reason."""
        return self.host_check() or _runtime_missing(self.runtime)

    def embed_record(self, path: Path, record: dict) -> None:
        """The pruning record beside the export (a sidecar JSON), and inside it where the format has a slot."""
        text = json.dumps(record, default=str)
        sidecar = (path / "yoloprune.json") if path.is_dir() else path.with_name(path.name + ".yoloprune.json")
        write_text_atomic(text, sidecar)
        self.write_metadata(path, text)

    def tagged_path(self, exported: Path, precision: str) -> Path:
        """``best.onnx`` -> ``best_fp32.onnx``; ``best_int8_openvino_model`` -> ``best_int8_openvino_model``."""
        name = exported.name.replace("_int8", "")
        stem = name[: -len(self.suffix)] if name.endswith(self.suffix) else Path(name).stem
        return exported.with_name(f"{stem}_{precision}{self.suffix}")

    def __getattr__(self, name: str):  # only reached for names the class does not have
        if name not in _RENAMED:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        new, hook = _RENAMED[name]
        warnings.warn(f"ExportFormat.{name} is deprecated: use ExportFormat.{new}", DeprecationWarning, stacklevel=2)
        return hook(self)


# hooks under their former names (still readable, with a DeprecationWarning): old name -> (new name, old value)
_RENAMED: dict[str, tuple[str, Callable[[ExportFormat], object]]] = {
    "runnable": ("why_not_runnable()", lambda f: lambda fmt=None: f.why_not_runnable()),
    "unavailable": ("precision_unavailable", lambda f: f.precision_unavailable),
    "scope": ("precision_scope", lambda f: f.precision_scope),
    "embed": ("write_metadata", lambda f: f.write_metadata),
}

FORMATS: dict[str, ExportFormat] = {
    f.name: f
    for f in (
        ExportFormat("onnx", ".onnx", ("fp32",), "onnx", "onnxruntime", "export", write_metadata=_embed_onnx,
                     runner=_onnx_runner, layer_network=onnx_conv_network),
        ExportFormat("openvino", "_openvino_model", ("fp32", "bf16", "fp16", "int8"), "openvino", "openvino", "export",
                     precision_unavailable=_openvino_unavailable, precision_scope=_openvino_scope,
                     runner=_openvino_runner),
        ExportFormat("coreml", ".mlpackage", ("fp16", "int8"), "coremltools", "coremltools", "export",
                     int8_calibrates=False, host_check=_macos, write_metadata=_embed_coreml,
                     offline_check=coreml_spec, compress=_compress_coreml,
                     compute_units=("ALL", "CPU_AND_NE", "CPU_AND_GPU", "CPU_ONLY"), layer_network=coreml_conv_network),
        ExportFormat("engine", ".engine", ("fp16", "int8"), "tensorrt", "tensorrt", "tensorrt", host_check=_nvidia_gpu),
    )
}
# the checkpoint itself, run by PyTorch: a benchmark's baseline row (timed, never exported)
PYTORCH = ExportFormat("pytorch", ".pt", ("fp32",), "torch", "torch", "", runner=_pytorch_runner)
# every format a benchmark row can name: the exports and PyTorch
BENCHMARK_FORMATS: dict[str, ExportFormat] = {PYTORCH.name: PYTORCH, **FORMATS}

# Ultralytics' quantize= argument per precision (bf16: an FP32 IR that OpenVINO computes in bf16)
QUANTIZE = {"fp32": None, "bf16": None, "fp16": 16, "int8": 8}


@dataclass(frozen=True)
class Hardware:
    name: str
    format: str  # the format it deploys (a FORMATS key)
    measured_here: bool  # True: timed on this machine; False: a device bundle is written for it
    bundle_formats: tuple[str, ...] = ()  # what its device bundle ships
    run_command: str = ""  # how the bundle is run on the device
    kit_format: str = ""  # what its profile kit ships: the file its runtime reads (TensorRT builds from ONNX)
    layers_unavailable: str = ""  # why its profile kit cannot time one-layer networks ("": it can)

    @property
    def precisions(self) -> tuple[str, ...]:
        return FORMATS[self.format].precisions


HARDWARE: dict[str, Hardware] = {
    h.name: h
    for h in (
        Hardware("intel-cpu", "openvino", True),
        Hardware("jetson", "engine", False, ("onnx",),
                 "python3 run_benchmark.py        # on the Jetson (JetPack's trtexec builds the engines)", "onnx"),
        Hardware("iphone", "coreml", False, ("onnx", "coreml"),
                 "open each package in Xcode > Core ML performance report on the iPhone (run_benchmark.py on a Mac "
                 "times the Mac, labelled mac)", "coreml",
                 "the iPhone's timings are typed in from Xcode by hand, and a per-layer kit holds hundreds of one-layer "
                 "networks"),
        Hardware("mac", "coreml", False, ("coreml",),
                 "python3 run_benchmark.py        # on the Mac with coremltools (--compute-units ALL|CPU_AND_NE|...)",
                 "coreml"),
    )
}


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


def hardware(name: str) -> Hardware:
    if name not in HARDWARE:
        raise ConfigError(f"unknown hardware {name!r}: use one of {', '.join(HARDWARE)}")
    return HARDWARE[name]
