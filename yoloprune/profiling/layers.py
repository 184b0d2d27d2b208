"""Per-layer latency tables, HALP's construction: every convolution that pruning changes is timed *alone*, as a
one-layer network of the deployment runtime (convolution + SiLU at its real input size and stride), over a grid
of its input and output channels. A variant's latency is the sum of its layers' entries plus a fixed part; the
sum's scale and the fixed part are calibrated on a few whole-model variants, and the table is judged on other
whole variants, as a whole-model table is (:mod:`yoloprune.profiling.profile`).

Layer entries are cached by shape, runtime, precision, threads and hardware under ``$YOLOPRUNE_HOME/latency/
layers``: a model pruned from the same base, another image size's table or a second profile reuses every shape
already timed.
"""

from __future__ import annotations

import json
import math
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from ultralytics.utils import TQDM

from ..core.layers import ConvShape, LayerMap
from ..core.latency import GroupTiming, LatencyTable, Staircase, ValidationRow, calibrate
from ..export.networks import onnx_conv_network
from ..io import write_json_atomic
from .tables import grid_widths, measured_entry, round8, staircase_widths, twin_entry, validate_model
from .timing import interleaved_medians

LAYER_TIMED_MS = 40  # each layer median rests on at least this much timing
MAX_LAYER_RUNS = 400  # however quick the layer: at most this many rounds
LAYER_BATCH = 16  # shapes compiled and timed together (their one- and two-copy networks)


@dataclass(frozen=True)
class SiteGrid:
    """The channel counts one convolution is timed at: every (input, output) pair of ``cins`` x ``couts``
    (ascending; a depthwise convolution's are equal, so only the diagonal)."""

    cins: tuple[int, ...]
    couts: tuple[int, ...]

    def shapes(self, dense: ConvShape) -> list[ConvShape]:
        if dense.depthwise:
            return [dense.with_channels(c, c) for c in self.couts]
        return [dense.with_channels(i, o) for i in self.cins for o in self.couts]


def site_grid(map_: LayerMap, index: int, fractions) -> SiteGrid:
    """The grid of site ``index``: its dense channels and ``fractions`` of them (multiples of 8) on each side a
    group changes."""
    site = map_.sites[index]

    def side(dense: int, changed: bool) -> tuple[int, ...]:
        return tuple(sorted({dense, *(round8(f * dense, dense) for f in fractions)})) if changed else (dense,)

    couts = side(site.dense.cout, bool(site.out_groups) or site.dense.depthwise)
    return SiteGrid(side(site.dense.cin, bool(site.in_groups)), couts)


def site_grids(map_: LayerMap, fractions) -> list[SiteGrid]:
    """Every site's grid, in site order."""
    return [site_grid(map_, i, fractions) for i in range(len(map_.sites))]


def grid_shapes(map_: LayerMap, grids: list[SiteGrid]) -> list[ConvShape]:
    """Every shape the sites' grids time."""
    return [s for site, grid in zip(map_.sites, grids) for s in grid.shapes(site.dense)]


class LayerModel:
    """The per-layer latency model: each site's timings on its grid, interpolated (bilinear in input and output
    channels); :meth:`total` is the sum over the sites of a variant."""

    def __init__(self, map_: LayerMap, grids: list[SiteGrid], ms_of):
        self.map, self.grids = map_, grids
        self._ms = []
        for site, grid in zip(map_.sites, grids):
            if site.dense.depthwise:
                self._ms.append(np.array([[ms_of(s) for s in grid.shapes(site.dense)]]))
            else:
                self._ms.append(np.array([ms_of(s) for s in grid.shapes(site.dense)]).reshape(len(grid.cins),
                                                                                              len(grid.couts)))

    def site_ms(self, index: int, shape: ConvShape) -> float:
        grid, ms = self.grids[index], self._ms[index]
        if shape.depthwise:
            return float(np.interp(shape.cout, grid.couts, ms[0]))
        rows = [float(np.interp(shape.cout, grid.couts, row)) for row in ms]
        return float(np.interp(shape.cin, grid.cins, rows)) if len(rows) > 1 else rows[0]

    def total(self, widths: dict[str, int] | None = None) -> float:
        """Summed milliseconds of every site in the variant with these group widths (missing groups: dense)."""
        return sum(self.site_ms(i, s) for i, s in enumerate(self.map.shapes(widths)))


def group_entries(model: LayerModel, dense_ms: float, fractions, with_group, partner: dict[str, str],
                  names=None) -> dict[str, GroupTiming]:
    """Every group's entry as a whole-model table holds it (the model with that group at each grid width, every
    other group dense), predicted by the layer sum: ``dense_ms`` minus the sites' saving. A split block's second
    half moves with its twin (:func:`~yoloprune.profiling.tables.twin_entry`)."""
    groups: dict[str, GroupTiming] = {}
    dense_total = model.total()
    for name in names or model.map.widths:
        d = model.map.widths[name]
        widths = grid_widths(d, fractions)
        twin = partner.get(name)
        if twin is not None and twin in groups:
            groups[name] = twin_entry(groups, twin, d, widths)
            continue
        ms = [dense_ms - (dense_total - model.total(with_group(name, w))) for w in widths]
        groups[name] = measured_entry(d, widths, ms, dense_ms)
    return groups


def staircase(model: LayerModel, exact_ms, dense_ms: float, group: str, with_group) -> Staircase:
    """The staircase ``round_to=auto`` reads, on ``group``: the layers it changes timed at every multiple of 8
    from half its dense width up (``exact_ms`` of each exact shape), the rest of the model as dense."""
    sites = model.map.sites_of(group)
    dense_shapes = model.map.shapes()
    fine = staircase_widths(model.map.widths[group])
    ms = []
    for w in fine:
        shapes = model.map.shapes(with_group(group, w))
        ms.append(dense_ms - sum(exact_ms(dense_shapes[i]) - exact_ms(shapes[i]) for i in sites))
    return Staircase(group=group, widths=fine, ms=ms)


def calibrate_layers(table: LatencyTable, layers: LayerModel, fit: list[ValidationRow],
                     val: list[ValidationRow]) -> None:
    """The table's latency model from whole random variants (``fit`` to calibrate the layer sum or fit the joint
    model, ``val`` to judge them; without ``val`` the layer sum is calibrated all the same, its error not judged),
    and the fixed part the calibrated sum leaves of the dense model (``measured_on["fixed_ms"]``)."""
    if val:
        validate_model(table, fit, val)
    elif fit:
        table.calibration = calibrate(table.dense_ms, [table.dense_ms - r.predicted for r in fit],
                                      [table.dense_ms - r.measured for r in fit])
    if table.model in ("isolated", None):
        table.measured_on["fixed_ms"] = round(table.dense_ms - table.calibration * layers.total(), 4)


def stair_group(map_: LayerMap, with_group, fractions) -> str:
    """Where a staircase is read when no timing says where latency moves most: the group whose narrowest grid
    width removes the most multiply-accumulates from the layers (its twin's removal included)."""
    def macs(widths=None) -> int:
        return sum(s.macs for s in map_.shapes(widths))

    return max(map_.widths, key=lambda g: macs() - macs(with_group(g, grid_widths(map_.widths[g], fractions)[0])))


def staircase_shapes(map_: LayerMap, group: str, with_group) -> list[ConvShape]:
    """The exact shapes :func:`staircase` needs timed."""
    sites = map_.sites_of(group)
    out = [map_.shapes()[i] for i in sites]
    for w in staircase_widths(map_.widths[group]):
        shapes = map_.shapes(with_group(group, w))
        out += [shapes[i] for i in sites]
    return out


# ----------------------------------------------------------------------------- timing one-layer networks
def own_ms(one: float, two: float) -> float:
    """A convolution's own cost in a model from its one-copy and two-copy networks' medians
    (:mod:`yoloprune.export.networks`): their difference."""
    return max(two - one, 0.0)


class LayerCache:
    """Median milliseconds of one-layer networks by shape (:meth:`ConvShape.key`), for one runtime, precision,
    thread count and hardware; a JSON file, written atomically after each batch."""

    def __init__(self, path: Path | None):
        self.path = path
        self.ms: dict[str, float] = {}
        if path is not None and path.exists():
            try:
                self.ms = {k: float(v) for k, v in json.loads(path.read_text()).get("ms", {}).items()}
            except (OSError, ValueError, AttributeError):
                self.ms = {}  # an unreadable cache is re-measured, never trusted

    def __contains__(self, shape: ConvShape) -> bool:
        return shape.key() in self.ms

    def __getitem__(self, shape: ConvShape) -> float:
        return self.ms[shape.key()]

    def save(self) -> None:
        if self.path is not None:
            write_json_atomic({"ms": self.ms}, self.path)


def time_layers(shapes: list[ConvShape], fmt, precision: str, threads: int, cache: LayerCache, *, runs: int,
                warmup: int, seed: int = 0, batch: int = LAYER_BATCH, console=None) -> int:
    """Time every shape not yet in ``cache`` with ``fmt``'s runtime in ``precision`` (int8: quantised networks): its
    one-copy and two-copy networks (:func:`~yoloprune.export.networks.onnx_conv_network`; the difference is the
    layer's cost in a model), in batches of ``batch`` shapes ordered by size, each batch compiled once and timed
    interleaved, at least ``runs`` rounds and enough that the batch's quickest median rests on ``LAYER_TIMED_MS``.
    Returns how many shapes were timed."""
    todo = sorted({s.key(): s for s in shapes if s not in cache}.values(), key=lambda s: s.macs)
    if not todo:
        return 0
    bar = TQDM(total=len(todo), desc=f"timing {len(todo)} layer shapes", file=console)
    with tempfile.TemporaryDirectory() as tmp:
        for start in range(0, len(todo), batch):
            part = todo[start:start + batch]
            fns = []
            for i, s in enumerate(part):
                for copies in (1, 2):
                    path = onnx_conv_network(s, Path(tmp) / f"l{start + i}x{copies}.onnx", copies, precision)
                    fns.append(fmt.runner(path, precision, s.hw[0], threads, shape=(1, s.cin, *s.hw))[0])
            quickest = min(interleaved_medians(fns, 3, warmup, seed))
            n = min(MAX_LAYER_RUNS, max(runs, math.ceil(LAYER_TIMED_MS / max(quickest, 1e-3))))
            ms = interleaved_medians(fns, n, 0, seed + start)
            for i, s in enumerate(part):
                cache.ms[s.key()] = own_ms(ms[2 * i], ms[2 * i + 1])
            cache.save()
            bar.update(len(part))
    bar.close()
    return len(todo)
