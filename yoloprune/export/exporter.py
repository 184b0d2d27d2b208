"""Export a (pruned) checkpoint to every requested (format, precision), each checked against PyTorch.

Ultralytics' exporter does the conversion (ONNX, OpenVINO with NNCF INT8 calibration on ``data``,
CoreML with coremltools' weight quantisation, TensorRT); we rename each result to a
precision-tagged name, embed the pruning record, and measure parity. One failing format never sinks
the others: every attempt yields an :class:`ExportResult` with its error.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ultralytics import YOLO
from ultralytics.engine.exporter import export_formats
from ultralytics.utils import LOGGER, TQDM

from .. import offline
from ..data.registry import resolve_dataset
from ..errors import ConfigError
from ..integrations.ultralytics.model_io import load_model
from ..io import replace_path
from ..logs import third_party_logs_to
from .formats import FORMATS, QUANTIZE, ExportFormat, parse_formats
from .parity import max_abs_error, val_map

# max abs error allowed on raw outputs (boxes normalised by imgsz, class scores in [0, 1]) per precision
# (bf16 keeps 8 bits of mantissa: 0.005-0.021 measured on yolov8n raw outputs on an avx512_bf16 CPU)
TOLERANCE = {"fp32": 1e-3, "bf16": 5e-2, "fp16": 2e-2, "int8": 1.0}  # INT8: gross errors only; its real gate is mAP
# mAP50-95 the export may lose against the PyTorch checkpoint on the same validation split
MAP_TOLERANCE = {"fp32": 0.005, "bf16": 0.01, "fp16": 0.01, "int8": 0.015}


@dataclass
class ExportResult:
    format: str
    precision: str
    ok: bool = False
    file: str | None = None
    size_mb: float | None = None
    seconds: float = 0.0
    error: str | None = None
    skipped: str | None = None  # why this precision cannot run on this machine (not exported)
    runtime_precision: str | None = None  # what the runtime reported it computed in while checking (OpenVINO)
    parity: dict = field(default_factory=dict)  # {"max_abs_error", "tolerance", "passed"} or {"skipped": why}
    map50_95: float | None = None  # Ultralytics' validator on the export (when data is given and it runs here)
    map50_95_pytorch: float | None = None

    def to_dict(self) -> dict:
        return asdict(self)


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


def export_all(checkpoint, formats="onnx", data=None, imgsz: int = 640, parity: bool = True, log_file=None,
               console=None, export_args: dict | None = None) -> list[ExportResult]:
    """Export ``checkpoint`` to each (format, precision) in ``formats``; files land beside the checkpoint.

    ``log_file``: where Ultralytics', OpenVINO's, NNCF's and coremltools' output goes (None: the
    console, as it comes); one progress bar over the exports is drawn on ``console`` (default: the
    console). ``export_args`` are further Ultralytics ``export`` arguments (``opset``, ``simplify``,
    ``device``, ...), passed through unchanged.
    """
    offline.configure_if_requested()  # YOLOPRUNE_OFFLINE=1 only
    checkpoint = Path(checkpoint)
    record = pruning_record(checkpoint)
    record["imgsz"] = imgsz
    data_yaml = str(resolve_dataset(data)) if data is not None else None
    items = parse_formats(formats)
    per_format = _export_args_per_format({f.name for f, _ in items}, export_args or {})
    results, reference = [], {}
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
                if fmt.compress is not None:
                    fmt.compress(path, record)
                fmt.embed_record(path, {**record, "format": fmt.name, "precision": precision})
                result.file, result.size_mb = str(path), size_mb(path)
                with fmt.precision_scope(precision) as compiled:
                    if parity:
                        result.parity = check_parity(checkpoint, path, fmt, precision, imgsz, data_yaml)
                    result.ok = result.parity.get("passed", True)
                    if not result.ok:
                        result.error = (f"parity failed: max abs error {result.parity['max_abs_error']:.4g} > "
                                        f"{result.parity['tolerance']}")
                    elif parity and data_yaml and "skipped" not in result.parity:
                        if "map" not in reference:
                            reference["map"] = val_map(checkpoint, data_yaml, imgsz)
                        result.map50_95_pytorch, result.map50_95 = reference["map"], val_map(path, data_yaml, imgsz)
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


def check_parity(checkpoint: Path, exported: Path, fmt: ExportFormat, precision: str, imgsz: int, data_yaml) -> dict:
    """Max abs error between PyTorch and the exported model on the same inputs (or why it cannot run here)."""
    why = fmt.why_not_runnable()
    if why:
        return {"skipped": why, **(fmt.offline_check(exported) if fmt.offline_check else {})}
    err = max_abs_error(checkpoint, exported, imgsz, data_yaml)
    return {"max_abs_error": err, "tolerance": TOLERANCE[precision], "passed": err <= TOLERANCE[precision]}
