"""Export a (pruned) checkpoint to every requested (format, precision), each checked against PyTorch.

Ultralytics' exporter does the conversion (ONNX, OpenVINO with NNCF INT8 calibration on ``data``,
CoreML with coremltools' weight quantisation, TensorRT); we rename each result to a
precision-tagged name, embed the pruning record, and measure parity (:class:`Parity`). One failing
format never sinks the others: every attempt yields an :class:`ExportResult` with its error.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path

from ultralytics import YOLO
from ultralytics.engine.exporter import export_formats
from ultralytics.utils import LOGGER, TQDM

from .. import offline
from ..core.config import from_options
from ..data.registry import resolve_dataset
from ..errors import ConfigError
from ..integrations.ultralytics.model_io import load_model
from ..io import replace_path
from ..logs import third_party_logs_to
from .formats import FORMATS, QUANTIZE, CoreMLSpec, ExportFormat, parse_formats
from .parity import max_abs_error, val_map

# max abs error allowed on raw outputs (boxes normalised by imgsz, class scores in [0, 1]) per precision
# (bf16 keeps 8 bits of mantissa: 0.005-0.021 measured on yolov8n raw outputs on an avx512_bf16 CPU)
TOLERANCE = {"fp32": 1e-3, "bf16": 5e-2, "fp16": 2e-2, "int8": 1.0}  # INT8: gross errors only; its real gate is mAP
# mAP50-95 the export may lose against the PyTorch checkpoint on the same validation split
MAP_TOLERANCE = {"fp32": 0.005, "bf16": 0.01, "fp16": 0.01, "int8": 0.015}


@dataclass(frozen=True)
class ExportConfig:
    """What ``export_all`` exports and how it checks each export.

    Attributes:
        formats: ``"onnx,openvino:int8,coreml"`` (or a sequence of ``name[:precision]``); a bare name means
            all its precisions (see ``yoloprune.export.formats.FORMATS``).
        imgsz: the square input size, in pixels, each export is made and checked at.
        parity: check each export against PyTorch (max abs error on the same inputs; mAP50-95 with ``data``).
        export_args: further Ultralytics ``export`` arguments (``opset``, ``simplify``, ``device``, ...), each
            passed to the formats that take it, by Ultralytics' own table.
    """

    formats: str = "onnx"
    imgsz: int = 640
    parity: bool = True
    export_args: Mapping = field(default_factory=dict)

    def __post_init__(self):
        object.__setattr__(self, "formats", format_spec(self.formats))
        if isinstance(self.imgsz, bool) or not isinstance(self.imgsz, int) or self.imgsz < 32:
            raise ConfigError(f"imgsz={self.imgsz!r} is invalid: a whole number of pixels >= 32, e.g. imgsz=640")
        if not isinstance(self.parity, bool):
            raise ConfigError(f"parity={self.parity!r} is invalid: True (check each export against PyTorch) or False")
        if self.export_args is None:
            object.__setattr__(self, "export_args", {})
        if not isinstance(self.export_args, Mapping):
            raise ConfigError(f"export_args={self.export_args!r} is invalid: a dict of Ultralytics export "
                              "arguments, e.g. export_args={'opset': 12}")
        object.__setattr__(self, "export_args", dict(self.export_args))
        self.per_format()  # an argument no requested format takes is an error now, not after the first export

    @property
    def exports(self) -> list[tuple[ExportFormat, str]]:
        """The (format, precision) pairs to export, in order."""
        return parse_formats(self.formats)

    def per_format(self) -> dict[str, dict]:
        """Each requested format's share of ``export_args`` (see :func:`_export_args_per_format`)."""
        return _export_args_per_format({f.name for f, _ in self.exports}, self.export_args)


def format_spec(formats) -> str:
    """``formats`` as one checked ``"name[:precision],..."`` string (a sequence of names is joined)."""
    if not isinstance(formats, (str, list, tuple)):
        raise ConfigError(f"formats={formats!r} is invalid: e.g. formats='onnx,openvino:int8' (or a list of them)")
    spec = formats if isinstance(formats, str) else ",".join(str(f) for f in formats)
    parse_formats(spec)  # unknown formats and precisions: a ConfigError naming the valid ones
    return spec


@dataclass(frozen=True)
class Parity:
    """An export against its PyTorch checkpoint on the same inputs: the max abs error and the tolerance it
    must stay within; or, where the export cannot run here, why (``skipped``) and what was checked instead
    (``offline``: a CoreML model's spec). ``Parity()``: not checked."""

    max_abs_error: float | None = None
    tolerance: float | None = None
    skipped: str | None = None
    offline: CoreMLSpec | None = None

    @property
    def measured(self) -> bool:
        return self.max_abs_error is not None

    @property
    def passed(self) -> bool:
        """True unless it was measured and missed its tolerance."""
        return not self.measured or self.max_abs_error <= self.tolerance

    def to_dict(self) -> dict:
        """The layout export records have always had: ``{}``, ``{max_abs_error, tolerance, passed}`` or
        ``{skipped, **offline}``."""
        if self.measured:
            return {"max_abs_error": self.max_abs_error, "tolerance": self.tolerance, "passed": self.passed}
        if self.skipped is not None:
            return {"skipped": self.skipped, **(self.offline.to_dict() if self.offline is not None else {})}
        return {}

    # reading it as the dict it used to be: still works, with a DeprecationWarning
    def _as_dict(self) -> dict:
        warnings.warn("ExportResult.parity is a Parity record now: read its attributes (parity.max_abs_error, "
                      "parity.skipped, parity.offline.ops, ...) or parity.to_dict()", DeprecationWarning, stacklevel=3)
        return self.to_dict()

    def __getitem__(self, key: str):
        return self._as_dict()[key]

    def __contains__(self, key: str) -> bool:
        return key in self._as_dict()

    def get(self, key: str, default=None):
        return self._as_dict().get(key, default)


@dataclass
class ExportResult:
    """One (format, precision) export attempt, filled in as it goes: ``ok`` with its file, or why not."""

    format: str
    precision: str
    ok: bool = False
    file: str | None = None
    size_mb: float | None = None
    seconds: float = 0.0
    error: str | None = None
    skipped: str | None = None  # why this precision cannot run on this machine (not exported)
    runtime_precision: str | None = None  # what the runtime reported it computed in while checking (OpenVINO)
    parity: Parity = field(default_factory=Parity)
    map50_95: float | None = None  # Ultralytics' validator on the export (when data is given and it runs here)
    map50_95_pytorch: float | None = None

    def to_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)} | {"parity": self.parity.to_dict()}


def size_mb(path: Path) -> float:
    """Size of a file, or of all files in a folder (an OpenVINO IR, a CoreML package), in MiB."""
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    return round(sum(p.stat().st_size for p in files) / 2**20, 3)


def pruning_record(checkpoint: Path) -> dict:
    """The pruning config/report a checkpoint carries, plus class names and imgsz (for export metadata)."""
    model, ckpt = load_model(checkpoint)
    meta = getattr(model, "yoloprune", None) or {}
    return {"yoloprune": meta, "names": getattr(model, "names", None),
            "imgsz": (ckpt.get("train_args") or {}).get("imgsz"), "source": str(checkpoint)}


def export_all(checkpoint, config: ExportConfig | str | Sequence[str] | None = None, *, data=None, log_file=None,
               console=None, **options) -> list[ExportResult]:
    """Export ``checkpoint`` to each (format, precision) of ``config``; files land beside the checkpoint.

    ``config`` is an :class:`ExportConfig`, or its formats alone (``export_all(ckpt, "onnx,openvino:int8",
    imgsz=320)``); ``options`` are ExportConfig fields. ``data`` (a dataset name or YAML) calibrates INT8
    and gives the mAP50-95 check. ``log_file``: where Ultralytics', OpenVINO's, NNCF's and coremltools'
    output goes (None: the console, as it comes); one progress bar over the exports is drawn on
    ``console`` (default: the console).
    """
    offline.configure_if_requested()  # YOLOPRUNE_OFFLINE=1 only
    if isinstance(config, (str, list, tuple)):  # the formats alone
        if "formats" in options:
            raise ConfigError(f"formats given twice ({config!r} and formats={options['formats']!r}): give them once")
        config, options = None, {"formats": config, **options}
    config = from_options(ExportConfig, config, options)
    checkpoint = Path(checkpoint)
    record = {**pruning_record(checkpoint), "imgsz": config.imgsz}
    data_yaml = str(resolve_dataset(data)) if data is not None else None
    items, per_format, imgsz = config.exports, config.per_format(), config.imgsz
    results, pytorch_map = [], None
    with third_party_logs_to(log_file) as out, offline.no_telemetry():
        bar = TQDM(items, desc=f"exporting {checkpoint.name}", total=len(items), file=console or out)
        for fmt, precision in bar:
            bar.set_description(f"exporting {checkpoint.name} to {fmt.name}:{precision}")
            result, t0 = ExportResult(fmt.name, precision), time.perf_counter()
            try:
                fmt.check_backend()
                why = fmt.precision_unavailable(precision)
                if why:
                    result.skipped = why
                    results.append(result)
                    continue
                calibrated = precision == "int8" and fmt.int8_calibrates
                if calibrated and data_yaml is None:
                    raise ConfigError(f"{fmt.name} int8 is calibrated on real images: add data=<dataset name or YAML>")
                kwargs = {**per_format[fmt.name], "format": fmt.name, "imgsz": imgsz, "quantize": QUANTIZE[precision]}
                if calibrated:
                    kwargs["data"] = data_yaml
                exported = Path(YOLO(str(checkpoint)).export(**kwargs))
                path = replace_path(exported, fmt.tagged_path(exported, precision))
                fmt.compress(path, record)
                fmt.embed_record(path, {**record, "format": fmt.name, "precision": precision})
                result.file, result.size_mb = str(path), size_mb(path)
                with fmt.precision_scope(precision) as compiled:
                    if config.parity:
                        result.parity = check_parity(checkpoint, path, fmt, precision, imgsz, data_yaml)
                    result.ok = result.parity.passed
                    if not result.ok:
                        result.error = (f"parity failed: max abs error {result.parity.max_abs_error:.4g} > "
                                        f"{result.parity.tolerance}")
                    elif config.parity and data_yaml and result.parity.skipped is None:
                        if pytorch_map is None:
                            pytorch_map = val_map(checkpoint, data_yaml, imgsz)
                        result.map50_95_pytorch, result.map50_95 = pytorch_map, val_map(path, data_yaml, imgsz)
                        lost = result.map50_95_pytorch - result.map50_95
                        if lost > MAP_TOLERANCE[precision]:
                            result.ok = False
                            result.error = f"mAP50-95 {lost:.4f} below PyTorch (> {MAP_TOLERANCE[precision]})"
                result.runtime_precision = ",".join(sorted(set(compiled))) or None
            except Exception as e:  # one failing backend never sinks the others
                result.error = f"{type(e).__name__}: {e}".strip()
                LOGGER.warning(f"yoloprune: export {fmt.name}:{precision} failed: {result.error}")
            result.seconds = round(time.perf_counter() - t0, 2)
            results.append(result)
    return results


def _export_args_per_format(names: set[str], export_args: dict) -> dict[str, dict]:
    """Each format gets the Ultralytics export arguments it supports (``opset`` goes to onnx, not openvino),
    by Ultralytics' own per-format table; an argument no requested format supports is an error."""
    table = export_formats()
    supported = {name: set(args) for name, args in zip(table["Argument"], table["Arguments"])}
    specific = set().union(*supported.values())  # arguments only some formats take; the rest (device, ...) go to all
    orphans = sorted(k for k in export_args if k in specific and not any(k in supported.get(n, ()) for n in names))
    if orphans:
        takers = {k: sorted(n for n, a in supported.items() if k in a and n in FORMATS) for k in orphans}
        raise ConfigError("; ".join(f"{k}= applies to format {', '.join(v) or 'none we export'}, not to "
                                    f"{', '.join(sorted(names))}" for k, v in takers.items()))
    return {n: {k: v for k, v in export_args.items() if k not in specific or k in supported.get(n, ())} for n in names}


def check_parity(checkpoint: Path, exported: Path, fmt: ExportFormat, precision: str, imgsz: int, data_yaml) -> Parity:
    """Max abs error between PyTorch and the exported model on the same inputs (or why it cannot run here)."""
    why = fmt.why_not_runnable()
    if why:
        return Parity(skipped=why, offline=fmt.offline_check(exported))
    return Parity(max_abs_error=max_abs_error(checkpoint, exported, imgsz, data_yaml), tolerance=TOLERANCE[precision])
