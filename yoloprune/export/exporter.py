"""Export a (pruned) checkpoint to every requested (format, precision), each checked against PyTorch.

Ultralytics' exporter does the conversion (ONNX, OpenVINO with NNCF INT8 calibration on ``data``,
CoreML with coremltools' weight quantisation, TensorRT); we rename each result to a
precision-tagged name, embed the pruning record, and measure parity. One failing format never sinks
the others: every attempt yields an :class:`ExportResult` with its error.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .formats import FORMATS, QUANTIZE, ExportFormat, parse_formats

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
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    return round(sum(p.stat().st_size for p in files) / 2**20, 3)


def tagged_path(exported: Path, precision: str) -> Path:
    """``best.onnx`` -> ``best_fp32.onnx``; ``best_int8_openvino_model`` -> ``best_int8_openvino_model``."""
    name = exported.name.replace("_int8", "")
    stem, suffix = (name[: -len("_openvino_model")], "_openvino_model") if name.endswith("_openvino_model") else (
        exported.stem.replace("_int8", ""), exported.suffix)
    return exported.with_name(f"{stem}_{precision}{suffix}")


def _replace(src: Path, dst: Path) -> Path:
    if src == dst:
        return dst
    if dst.is_dir():
        shutil.rmtree(dst)
    elif dst.exists():
        dst.unlink()
    os.replace(src, dst)
    return dst


def embed_metadata(path: Path, fmt: ExportFormat, record: dict) -> None:
    """Write the pruning record beside the export, and inside it where the format has a metadata slot."""
    text = json.dumps(record, default=str)
    sidecar = (path / "yoloprune.json") if path.is_dir() else path.with_name(path.name + ".yoloprune.json")
    from ..atomic import write_text_atomic  # noqa: PLC0415

    write_text_atomic(text, sidecar)
    if fmt.name == "onnx":
        import onnx  # noqa: PLC0415

        model = onnx.load(str(path))
        props = [p for p in model.metadata_props if p.key != "yoloprune"]
        del model.metadata_props[:]
        model.metadata_props.extend(props)
        model.metadata_props.add(key="yoloprune", value=text)
        tmp = path.with_name(f".{path.name}.tmp")
        onnx.save(model, str(tmp))
        os.replace(tmp, path)
    elif fmt.name == "coreml":
        import coremltools as ct  # noqa: PLC0415

        model = ct.models.MLModel(str(path), skip_model_load=True)
        model.user_defined_metadata["yoloprune"] = text
        tmp = path.with_name(f"tmp-{path.name}")  # saving over the package it was read from deletes its weights
        model.save(str(tmp))
        _replace(tmp, path)


def pruning_record(checkpoint: Path) -> dict:
    """The pruning config/report a checkpoint carries, plus class names and imgsz (for export metadata)."""
    from ..checkpoint import load_model  # noqa: PLC0415

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
    from .. import offline  # noqa: PLC0415

    offline.configure_if_requested()
    from ultralytics import YOLO  # noqa: PLC0415
    from ultralytics.utils import LOGGER, TQDM  # noqa: PLC0415

    from ..data import resolve_dataset  # noqa: PLC0415
    from ..errors import ConfigError  # noqa: PLC0415
    from ..logs import third_party_logs_to  # noqa: PLC0415

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
                if precision == "int8" and fmt.name != "coreml" and data_yaml is None:
                    raise ConfigError(f"{fmt.name} int8 is calibrated on real images: add data=<dataset name or YAML>")
                kwargs = {**per_format[fmt.name], "format": fmt.name, "imgsz": imgsz, "quantize": QUANTIZE[precision]}
                if precision == "int8" and data_yaml and fmt.name != "coreml":  # CoreML int8 quantises weights only
                    kwargs["data"] = data_yaml
                exported = Path(YOLO(str(checkpoint)).export(**kwargs))
                path = _replace(exported, tagged_path(exported, precision))
                embed_metadata(path, fmt, {**record, "format": fmt.name, "precision": precision})
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
                            reference["map"] = validate_map(checkpoint, data_yaml, imgsz)
                        result.map50_95_pytorch, result.map50_95 = reference["map"], validate_map(path, data_yaml, imgsz)
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
    from ultralytics.engine.exporter import export_formats  # noqa: PLC0415

    from ..errors import ConfigError  # noqa: PLC0415

    table = export_formats()
    supported = {name: set(args) for name, args in zip(table["Argument"], table["Arguments"])}
    specific = set().union(*supported.values())  # arguments only some formats take; the rest (device, ...) go to all
    orphans = sorted(k for k in export_args if k in specific and not any(k in supported.get(n, ()) for n in names))
    if orphans:
        takers = {k: sorted(n for n, a in supported.items() if k in a and n in FORMATS) for k in orphans}
        raise ConfigError("; ".join(f"{k}= applies to format {', '.join(v) or 'none we export'}, not to "
                                    f"{', '.join(sorted(names))}" for k, v in takers.items()))
    return {n: {k: v for k, v in export_args.items() if k not in specific or k in supported.get(n, ())} for n in names}


def validate_map(weights, data_yaml, imgsz: int, batch: int = 1) -> float:
    """mAP50-95 of any Ultralytics-loadable model on the dataset's validation split (exports need batch=1)."""
    from ultralytics import YOLO  # noqa: PLC0415

    metrics = YOLO(str(weights), task="detect").val(data=str(data_yaml), imgsz=imgsz, batch=batch, plots=False,
                                                    verbose=False, workers=0)
    return float(metrics.box.map)


def check_parity(checkpoint: Path, exported: Path, fmt: ExportFormat, precision: str, imgsz: int, data_yaml) -> dict:
    """Max abs error between PyTorch and the exported model on the same inputs (or why it cannot run here)."""
    why = fmt.why_not_runnable()
    if why:
        spec = coreml_spec(exported) if fmt.name == "coreml" else {}
        return {"skipped": why, **spec}
    from .parity import max_abs_error  # noqa: PLC0415

    err = max_abs_error(checkpoint, exported, imgsz, data_yaml)
    return {"max_abs_error": err, "tolerance": TOLERANCE[precision], "passed": err <= TOLERANCE[precision]}


def coreml_spec(path: Path) -> dict:
    """What can be checked of a CoreML model without macOS: input shape, weight precision, op set."""
    import coremltools as ct  # noqa: PLC0415

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
    return {"input": image.name, "input_hw": shape, "ops": sorted(ops), "n_ops": len(ops),
            "spec_version": spec.specificationVersion, "const_dtypes": sorted(dtypes)}
