"""Where ``target=latency`` is measured: the latency table a prune profiles when its config names none, and
the closed loop that measures a one-shot prune and corrects its budget (:class:`LatencyCheck`)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..core.config import PruneConfig
from ..core.latency import LatencyTable
from ..errors import ConfigError
from ..export.formats import HARDWARE, hardware as hardware_entry, parse_formats
from ..profiling.profile import profile


@dataclass(frozen=True)
class LatencyCheck:
    """Where ``target=latency`` is measured.

    ``hardware`` and ``format`` (one runtime and precision, e.g. ``openvino:fp32``) name the latency table a
    prune profiles when its config gives no ``latency_table`` (measured once, then cached; a table of another
    device is one merged from its profile kit, and ``compute_units`` picks a CoreML table by the units it was
    timed with). A one-shot prune on this machine is then measured, dense vs pruned with ``format``, and while
    the measured latency misses the asked one by more than ``tolerance`` (relative) the budget is corrected and
    the dense model pruned again, at most ``iterations`` times.

    Attributes:
        hardware: where the model deploys: ``intel-cpu`` (measured here), ``jetson``, ``mac``, ``iphone``.
        format: the runtime and precision timed, e.g. ``openvino:fp32``, ``openvino:int8``, ``onnx``.
        compute_units: CoreML only: the units a merged Mac/iPhone table was timed with (default ``ALL``).
        threads: inference threads of the closed loop's timings.
        tolerance: how far (relative) the measured latency may miss the asked one.
        iterations: at most this many prunes from the dense model.
        runs: interleaved timing rounds of dense and pruned per measurement.
        closed_loop: ``False`` prunes where the table predicts the asked amount and times nothing here: for a
            budget already corrected (a search's trials are; their driver times every model one at a time).
    """

    hardware: str = "intel-cpu"
    format: str = "openvino:fp32"
    compute_units: str | None = None
    threads: int = 2
    tolerance: float = 0.05
    iterations: int = 4
    runs: int = 30
    closed_loop: bool = True

    def __post_init__(self):
        if not 0 < self.tolerance < 1 or self.iterations < 1 or self.runs < 3 or self.threads < 1:
            raise ConfigError(f"LatencyCheck: tolerance in (0, 1), iterations >= 1, runs >= 3, threads >= 1 (got {self})")
        if not isinstance(self.closed_loop, bool):
            raise ConfigError(f"LatencyCheck: closed_loop must be True or False (got {self.closed_loop!r})")
        hardware_entry(self.hardware)  # unknown hardware: one error naming the known ones
        if len(parse_formats(self.format)) != 1:
            raise ConfigError(f"format={self.format!r}: target=latency is measured with one format and precision, "
                              "e.g. format=openvino:fp32")

    @classmethod
    def of_table(cls, table: LatencyTable) -> LatencyCheck:
        """The check that measures where ``table`` was measured (its hardware, runtime and precision)."""
        return cls(hardware=table.key.hardware, format=f"{table.key.runtime}:{table.key.precision}")


def with_latency_table(model, config: PruneConfig, check: LatencyCheck, data=None) -> PruneConfig:
    """``config`` with the latency table ``target=latency`` prunes with: its own, else the one profiled (or found
    cached) for ``check``'s hardware and format at the config's image size."""
    if config.target != "latency" or config.latency_table:
        if check.compute_units is not None:
            raise ConfigError(f"compute_units={check.compute_units} picks the merged CoreML table a new structured "
                              "target=latency run prunes with (hardware=mac|iphone, no latency_table=): leave it out "
                              "here")
        return config
    result = profile(model, hardware=check.hardware, format=check.format, imgsz=config.imgsz, data=data,
                     compute_units=check.compute_units)
    return replace(config, latency_table=str(result.cached))


def measured_here(table: LatencyTable) -> bool:
    """Whether ``table``'s device is this machine (so the closed loop can time the result here)."""
    return table.key.hardware in HARDWARE and HARDWARE[table.key.hardware].measured_here


def check_for(config: PruneConfig, check: LatencyCheck | None) -> LatencyCheck:
    """The check a ``target=latency`` prune measures with: ``check``, else where its given table was measured, else
    this CPU's OpenVINO FP32. A table measured here and a check that names another device or runtime are refused:
    the closed loop would correct one runtime's budget with another's timings (another device's table is not
    measured here at all: its device's benchmark bundle checks the result)."""
    given = LatencyTable.load(config.latency_table) if config.target == "latency" and config.latency_table else None
    if check is None:
        return LatencyCheck.of_table(given) if given else LatencyCheck()
    if given is not None and measured_here(given):
        fmt, precision = parse_formats(check.format)[0]
        key = given.key
        if (check.hardware, fmt.name, precision) != (key.hardware, key.runtime, key.precision):
            raise ConfigError(f"latency_table={config.latency_table} was measured on {key.hardware} with "
                              f"{key.runtime}:{key.precision}, but the check measures {check.hardware} with "
                              f"{fmt.name}:{precision}: give hardware={key.hardware} format={key.runtime}:{key.precision} "
                              "(or leave both out to use the table's)")
    return check
