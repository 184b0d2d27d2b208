"""OpenVINO on the CPU computes in the precision the user asked for, on every CPU.

OpenVINO's CPU plugin picks its compute precision when a model is compiled, not when it is
exported: on CPUs with bf16 support (``avx512_bf16`` / AMX: Intel since Cooper Lake, AMD since
Zen 4) an "FP32" IR runs in **bf16** unless ``INFERENCE_PRECISION_HINT`` says ``f32``; the hint
cannot be stored in the IR (OpenVINO 2026.4 ignores it in ``rt_info``). So every compile of ours
passes the hint for the precision asked for, reads back what was compiled, and Ultralytics'
validator is made to do the same (:func:`forced_precision`).

Precision -> compute: ``fp32`` f32; ``fp16`` (FP16-compressed weights) f32; ``int8`` (NNCF
FakeQuantize) int8 where quantised, f32 elsewhere; ``bf16`` bf16 (only where the CPU supports it).
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
from pathlib import Path

from ..errors import ConfigError

COMPUTE = {"fp32": "f32", "fp16": "f32", "int8": "f32", "bf16": "bf16"}  # INFERENCE_PRECISION_HINT per precision
READ_BACK = {"f32": "f32", "float32": "f32", "bf16": "bf16", "bfloat16": "bf16", "f16": "f16", "float16": "f16"}


def cpu_capabilities(core=None) -> tuple[str, ...]:
    """OpenVINO's ``OPTIMIZATION_CAPABILITIES`` of this CPU, e.g. ``('BF16', 'FP32', 'INT8', ...)``."""
    import openvino as ov  # noqa: PLC0415

    return tuple(str(c) for c in (core or ov.Core()).get_property("CPU", "OPTIMIZATION_CAPABILITIES"))


def unsupported(precision: str, capabilities) -> str | None:
    """Why ``precision`` cannot run on a CPU with these capabilities (None when it can)."""
    if precision == "bf16" and "BF16" not in capabilities:
        return ("this CPU has no bf16 support (OpenVINO lists no BF16 capability; needs avx512_bf16 or AMX): "
                "use openvino:fp32 or openvino:int8")
    return None


def compile_config(precision: str, capabilities, threads: int | None = None) -> dict:
    """The CPU plugin config that makes ``precision`` run as asked (raises for bf16 on a CPU without it)."""
    if precision not in COMPUTE:
        raise ConfigError(f"OpenVINO precision {precision!r}: use one of {', '.join(COMPUTE)}")
    why = unsupported(precision, capabilities)
    if why:
        raise ConfigError(f"openvino:{precision}: {why}")
    config = {"INFERENCE_PRECISION_HINT": COMPUTE[precision], "PERFORMANCE_HINT": "LATENCY"}
    if threads:
        config["INFERENCE_NUM_THREADS"] = threads
    return config


def compiled_precision(compiled) -> str:
    """What a compiled model will compute in, as OpenVINO reports it (``f32``, ``bf16``, ``f16``)."""
    hint = compiled.get_property("INFERENCE_PRECISION_HINT")
    text = hint.get_type_name() if hasattr(hint, "get_type_name") else str(hint)
    text = text.replace("<Type: '", "").replace("'>", "").strip()
    return READ_BACK.get(text, text)


def ir_file(path) -> Path:
    """The model file of an ``*_openvino_model`` folder (its ``.xml``), or ``path`` itself when it is an ``.xml``
    or an ``.onnx``."""
    path = Path(path)
    return path if path.suffix in {".xml", ".onnx"} else next(path.glob("*.xml"))


def compile_ir(path, precision: str, threads: int | None = None, extra: dict | None = None):
    """``(compiled model, precision it computes in)`` for an ``*_openvino_model`` folder, an ``.xml`` or an ``.onnx``."""
    import openvino as ov  # noqa: PLC0415

    core = ov.Core()
    xml = ir_file(path)
    config = {**compile_config(precision, cpu_capabilities(core), threads), **(extra or {})}
    compiled = core.compile_model(core.read_model(xml), "CPU", config)
    ran = compiled_precision(compiled)
    if ran != COMPUTE[precision]:
        raise RuntimeError(f"OpenVINO compiled openvino:{precision} to compute in {ran}, not {COMPUTE[precision]}")
    return compiled, ran


_FORCED: contextvars.ContextVar = contextvars.ContextVar("yoloprune_openvino_precision", default=None)
_LOCK = threading.Lock()
_INSTALLED = {"count": 0, "original": None}


@contextlib.contextmanager
def forced_precision(precision: str):
    """For the block, every ``openvino.Core().compile_model`` on the CPU in this context gets ``precision``'s hint.

    Ultralytics' ``AutoBackend`` builds its own ``ov.Core()`` (no precision hint on Linux), so its
    validator would measure an "FP32" model in bf16 on bf16 CPUs. While any scope is open,
    ``ov.Core`` is a subclass that adds the hint only where a scope's context variable is set (this
    thread or task; ``AUTO`` becomes ``CPU``: the checks are of the CPU): other threads, and Core objects
    kept after the scope, compile as they asked.
    The original class is put back when the last scope closes. The yielded list collects the
    precision each compiled model reports.
    """
    import openvino as ov  # noqa: PLC0415

    config = compile_config(precision, cpu_capabilities())
    seen: list[str] = []
    token = _FORCED.set((config["INFERENCE_PRECISION_HINT"], seen))
    with _LOCK:
        if _INSTALLED["count"] == 0:
            _INSTALLED["original"] = ov.Core
            ov.Core = _hinted_core(ov.Core)
        _INSTALLED["count"] += 1
    try:
        yield seen
    finally:
        _FORCED.reset(token)
        with _LOCK:
            _INSTALLED["count"] -= 1
            if _INSTALLED["count"] == 0:
                ov.Core = _INSTALLED["original"]


def _hinted_core(original):
    class _Core(original):  # stands in for ov.Core while a scope is open
        def compile_model(self, model, device_name=None, config=None, **kwargs):
            forced = _FORCED.get()
            if forced is None or device_name not in (None, "CPU", "AUTO"):  # AUTO: checks run on the CPU
                return original.compile_model(self, model, device_name, config or {}, **kwargs)
            hint, seen = forced
            compiled = original.compile_model(self, model, "CPU", {**(config or {}), "INFERENCE_PRECISION_HINT": hint},
                                              **kwargs)
            seen.append(compiled_precision(compiled))
            return compiled

    return _Core
