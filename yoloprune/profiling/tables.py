"""Building a latency table, the parts a local profile and a device kit share: the widths a group is measured
at (the grid and the staircase), the entries of measured groups and of split-block twins, the random variants
timed whole and the latency model they choose, and where tables are cached."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from .. import offline
from ..core.latency import GroupTiming, LatencyTable, TableKey, Validation, ValidationRow, calibrate, choose_model
from ..export.formats import FORMATS


def round8(width: float, dense: int) -> int:
    """``width`` rounded to a multiple of 8 channels, within [8, dense]."""
    return int(min(dense, max(8, 8 * round(width / 8))))


def grid_widths(dense: int, fractions) -> list[int]:
    """The widths a group is measured at, below its dense width, ascending."""
    return sorted({round8(f * dense, dense) for f in fractions} - {dense})


def staircase_widths(dense: int) -> list[int]:
    """The fine grid ``round_to=auto`` reads: every multiple of 8 from half the dense width up to it."""
    return [w for w in range(8, dense + 1, 8) if w >= dense // 2]


def measured_entry(dense: int, widths: list[int], ms: list[float], dense_ms: float) -> GroupTiming:
    """A group timed at ``widths`` (below its dense width, ascending; ``ms`` each) beside the dense model
    (``dense_ms``), which is the entry's last point."""
    return GroupTiming(dense=dense, widths=[*widths, dense], ms=[*ms, dense_ms])


def twin_entry(table: LatencyTable | dict[str, GroupTiming], twin: str, dense: int, widths: list[int]) -> GroupTiming:
    """The second half of a split block: it moves with its ``twin`` (measured first, which holds the pair's
    saving), so it saves nothing of its own (the latency model is additive). ``table``: the table being built,
    or its groups so far."""
    groups = table.groups if isinstance(table, LatencyTable) else table
    return GroupTiming(dense=dense, widths=[*widths, dense], ms=[groups[twin].ms[-1]] * (len(widths) + 1),
                       paired_with=twin)


def reaches(table: LatencyTable, fractions) -> bool:
    """Whether ``table`` was measured at least as narrow as ``fractions`` would measure every group: the knapsack
    predicts no saving below a group's lowest measured width, so a shallower table caps how far it prunes.
    (Depth only: a table measured at 0.25 alone serves an ask for 0.75, 0.5, 0.25.)"""
    return all(g.widths[0] <= min(grid_widths(g.dense, fractions), default=g.dense) for g in table.free().values())


def validation_row(table: LatencyTable, widths: dict[str, int], variant_ms: float, dense_ms: float) -> ValidationRow:
    """One random variant: the table's (uncalibrated) prediction vs its measurement, drift since the table removed
    (``dense_ms`` is the dense model timed beside the variant)."""
    return ValidationRow(predicted=table.predict(widths, calibrated=False),
                         measured=variant_ms * table.dense_ms / dense_ms, raw_ms=variant_ms, dense_ms=dense_ms,
                         widths={g: w for g, w in widths.items() if g in table.groups and w != table.groups[g].dense})


def validation_summary(table: LatencyTable, rows: list[ValidationRow]) -> Validation:
    """MAPE of the additive model and of the calibrated one (fitted on one half, judged on the other); sets the
    table's calibration (fitted on all rows)."""

    def mape(rs, scale):
        return float(np.mean([abs(table.dense_ms - scale * (table.dense_ms - r.predicted) - r.measured) / r.measured
                              for r in rs]))

    def fit(rs):
        return calibrate(table.dense_ms, [table.dense_ms - r.predicted for r in rs],
                         [table.dense_ms - r.measured for r in rs])

    half = len(rows) // 2
    held_out = mape(rows[half:], fit(rows[:half])) if half else None  # fitted on one half, judged on the other
    table.calibration = fit(rows)
    return Validation(variants=list(rows), mape_additive=mape(rows, 1.0), calibration=table.calibration,
                      mape=held_out if held_out is not None else mape(rows, table.calibration),
                      mape_note="calibrated model, fitted on the first half of the variants, measured on the second")


def validate_model(table: LatencyTable, fit_rows: list[ValidationRow], val_rows: list[ValidationRow]) -> None:
    """Set the table's latency model from whole random variants: the better of the isolated and the joint model
    (:func:`~yoloprune.core.latency.choose_model`) where variants were timed to fit it, else the isolated timings
    calibrated; judged on ``val_rows`` (``table.validation``)."""
    table.validation = choose_model(table, fit_rows, val_rows) if fit_rows else validation_summary(table, val_rows)


def cached_path(key: TableKey, cache_dir=None) -> Path:
    """Where the table with ``key`` lives in the cache (``$YOLOPRUNE_HOME/latency``)."""
    return (Path(cache_dir) if cache_dir else offline.yoloprune_home() / "latency") / f"{key.slug()}.json"


def layer_cache_path(key: TableKey, cache_dir=None) -> Path:
    """Where the one-layer timings of ``key``'s hardware, runtime, precision and threads are cached (shared by every
    model and image size measured there)."""
    units = f"-{key.units.lower()}" if key.units else ""
    return (cached_path(key, cache_dir).parent / "layers"
            / f"{key.hardware}-{key.runtime}-{key.precision}-t{key.threads}{units}.json")


def merged_tables(key: TableKey, cache_dir=None) -> dict[str, LatencyTable]:
    """The cached tables of ``key`` with each compute units of its runtime, by units. A table merged before units
    were keyed (cached under the name without them) counts as the units it recorded, else the runtime's default;
    a keyed table wins over it."""
    fmt, found = FORMATS[key.runtime], {}
    legacy = cached_path(replace(key, units=""), cache_dir)
    if legacy.exists():
        table = LatencyTable.load(legacy)
        found[table.measured_on.get("compute_units", fmt.units())] = table
    for units in fmt.compute_units:
        path = cached_path(replace(key, units=units), cache_dir)
        if path.exists():
            found[units] = LatencyTable.load(path)
    return found


def table_summary(table: LatencyTable) -> str:
    """One line on a table just measured or merged: what, how, and how well it predicts whole variants."""
    k, v = table.key, table.validation
    how = table.measured_on.get("method", "variants")
    line = (f"latency table {k.runtime}:{k.precision} {k.imgsz} px ({how}): {len(table.free())} groups, dense "
            f"{table.dense_ms:.2f} ms")
    if v is not None:
        line += f", {v.model or 'calibrated'} model MAPE {v.mape:.1%} on {len(v.variants)} random variants"
    return line
