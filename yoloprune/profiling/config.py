"""What a latency profile measures and how: :class:`ProfileConfig`, checked when it is made. The same config
profiles this machine (:func:`~yoloprune.profiling.profile.profile`) and writes a device's profile kit
(:func:`~yoloprune.profiling.kit.write_kit`)."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ConfigError
from ..export.formats import ExportFormat, Hardware, hardware as hardware_entry, parse_formats

GRID = (0.75, 0.5, 0.25)  # default fractions of each group's dense width a profile measures
METHODS = ("auto", "layers", "variants")  # how a table is measured (ProfileConfig.method)


def _whole(name: str, value, least: int, hint: str, optional: bool = False) -> None:
    if optional and value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise ConfigError(f"{name}={value!r} is invalid: a whole number >= {least}{' (or None)' if optional else ''}, "
                          f"e.g. {hint}")


@dataclass(frozen=True)
class ProfileConfig:
    """How to measure a model's latency table.

    Attributes:
        hardware: where the model deploys (a ``yoloprune.export.formats.HARDWARE`` name): ``intel-cpu`` is
            measured on this machine; for ``jetson``, ``mac`` and ``iphone`` a profile kit is timed on the device
            and merged back (``yolo-prune profile merge=...``).
        format: the one runtime and precision timed, e.g. ``openvino:fp32``, ``openvino:int8`` (calibrated on a
            few images of ``data=``), ``onnx:fp32``; ``engine:fp16`` on a Jetson, ``coreml:fp16`` on Apple devices.
        imgsz: input size in pixels (batch 1), a multiple of 32.
        threads: CPU threads the runtime is given on this machine.
        runs: interleaved rounds per median at least (more where the model is quick: each median rests on
            at least 300 ms of timing).
        warmup: untimed calls of each model before timing.
        validate: random variants the latency model is judged on (0: none, no latency model is chosen).
        seed: shuffles the rounds and draws the random variants (the same seed: the same variants).
        fractions: the widths each group is measured at, as fractions in (0, 1) of its dense width (default
            0.75, 0.5, 0.25). Given, a cached table measured shallower than they reach is measured again;
            left out, any cached table serves.
        fit: random whole variants the latency model is fitted on (default: 8 to calibrate a per-layer table;
            twice the free groups, at least 20, to fit a whole-variant one).
        compute_units: which CoreML compute units the merged table was timed with (``ALL``, ``CPU_AND_NE``, ...;
            default ``ALL``); only for tables of Apple devices.
        groups: profile only the first N groups (the rest are predicted as free to prune): for checking the
            machinery, never cached and not for pruning.
        method: ``layers`` times every convolution pruning changes alone (a one-layer network of the runtime,
            over a grid of its channels; minutes) and calibrates their sum on a few whole variants; ``variants``
            times the whole model with each group at each grid width (an export per variant; far slower).
            ``auto`` (default): ``layers`` where it is as accurate (FP32, BF16 and FP16 on this machine),
            ``variants`` for INT8 (an INT8 per-layer table, one-layer networks quantised as the runtime runs
            NNCF's quantisers, predicted held-out variants 8-11 % off against about 3 % for whole variants) and
            for device kits. A Jetson's or a Mac's kit can be per-layer (``method=layers``: hundreds of small
            one-layer networks and a few whole variants instead of about a hundred whole models; its error on
            held-out variants is measured when merged); the iPhone's cannot (its timings are typed in by hand).
            A cached table serves ``auto`` however it was measured.
    """

    hardware: str = "intel-cpu"
    format: str = "openvino:fp32"
    imgsz: int = 640
    threads: int = 2
    runs: int = 15
    warmup: int = 3
    validate: int = 10
    seed: int = 0
    fractions: tuple[float, ...] | None = None
    fit: int | None = None
    compute_units: str | None = None
    groups: int | None = None
    method: str = "auto"

    def __post_init__(self):
        device = hardware_entry(self.hardware)  # unknown hardware: a ConfigError naming the known ones
        items = parse_formats(self.format)
        if len(items) != 1:
            if device.measured_here:
                raise ConfigError(f"format={self.format!r}: profile one format and precision, e.g. format=openvino:fp32")
            raise ConfigError(f"hardware={self.hardware} runs {device.format}: give one precision, e.g. "
                              f"format={device.format}:{device.precisions[0]}")
        _whole("imgsz", self.imgsz, 32, "imgsz=640")
        if self.imgsz % 32:
            raise ConfigError(f"imgsz={self.imgsz} must be a multiple of 32")
        for name, least, hint in (("threads", 1, "threads=2"), ("runs", 1, "runs=15"), ("warmup", 0, "warmup=3"),
                                  ("validate", 0, "validate=10")):
            _whole(name, getattr(self, name), least, hint)
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise ConfigError(f"seed={self.seed!r} is invalid: a whole number, e.g. seed=0")
        _whole("fit", self.fit, 0, "fit=20", optional=True)
        _whole("groups", self.groups, 1, "groups=2", optional=True)
        if self.compute_units is not None and not isinstance(self.compute_units, str):
            raise ConfigError(f"compute_units={self.compute_units!r} is invalid: a name, e.g. compute_units=ALL")
        items[0][0].units(self.compute_units)  # units the runtime does not have: one error naming its choices
        if self.fractions is not None:
            object.__setattr__(self, "fractions", _fractions(self.fractions))
        if self.method not in METHODS:
            raise ConfigError(f"method={self.method!r}: use one of {', '.join(METHODS)}")
        if self.method == "layers" and device.layers_unavailable:
            raise ConfigError(f"method=layers for hardware={self.hardware}: {device.layers_unavailable}; leave method "
                              "out (or method=variants)")

    @property
    def measured_by(self) -> str:
        """The method that measures this table: ``method``, with ``auto`` resolved by the precision."""
        if self.method != "auto":
            return self.method
        return "variants" if self.target[1] == "int8" or not self.device.measured_here else "layers"

    @property
    def device(self) -> Hardware:
        """The hardware's entry: its format, and whether it is measured here or through a profile kit."""
        return hardware_entry(self.hardware)

    @property
    def target(self) -> tuple[ExportFormat, str]:
        """The format timed and its precision."""
        return parse_formats(self.format)[0]

    @property
    def units(self) -> str:
        """The compute units the table is keyed by ("" where the runtime has no choice)."""
        return self.target[0].units(self.compute_units)

    @property
    def grid(self) -> tuple[float, ...]:
        """The fractions measured: those asked for, else the default grid."""
        return tuple(self.fractions or GRID)


def _fractions(value) -> tuple[float, ...]:
    """``value`` (one fraction or several) as a tuple, or the error naming what fractions are."""
    fractions = tuple(value) if isinstance(value, (tuple, list)) else (value,)
    if not fractions or not all(isinstance(f, (int, float)) and not isinstance(f, bool) and 0 < f < 1
                                for f in fractions):
        raise ConfigError(f"fractions={value!r}: widths to measure as fractions in (0, 1), e.g. 0.75,0.5,0.25")
    return fractions
