"""Latency tables of devices that are not this machine (Jetson, Mac, iPhone): a profile kit, and its merge.

``yolo-prune profile model=best.pt hardware=jetson format=engine:fp16`` cannot time anything here, so it
writes a *kit*: every variant a local profile would time (each group at the grid widths with the rest
dense, a fine grid on one group for ``round_to=auto``, random variants for the latency model's
validation), exported to what the device runs (ONNX that TensorRT builds into engines on the Jetson;
CoreML packages for the Mac and the iPhone; a per-layer kit, ``method=layers``, ships one-layer networks of
every convolution pruning changes and a few whole variants instead), ``kit.json`` naming them, and the
bundle's standalone ``run_benchmark.py`` whose ``--profile`` mode times them there, each set interleaved with
the dense model (one-layer networks with each other), and writes ``timings.json``. ``yolo-prune profile
merge=<timings.json>`` builds the same latency table a local profile writes, keyed by where it was measured
(``jetson``, ``mac`` with its chip and compute units), and caches it for ``target=latency``.

The iPhone: Python does not run on the phone. Each package's median prediction time comes from Xcode's
Core ML performance report on the connected phone, typed into the kit's ``iphone_timings.csv``, merged the
same way (labelled ``iphone``). A table timed on a Mac is never labelled ``iphone``.
"""

from __future__ import annotations

import copy
import csv
import json
import re
import shutil
import statistics
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ultralytics.utils import TQDM

from ..core.config import from_options
from ..core.latency import LatencyTable, Staircase, TableKey, fingerprint
from ..core.layers import LayerMap, layer_map
from ..core.prune import GroupLayout, group_layout, pruned_to
from ..core.stats import model_stats
from ..errors import ConfigError
from ..export.formats import FORMATS, ExportFormat, Hardware
from ..integrations.ultralytics.model_io import load_model
from ..io import run_dir, write_json_atomic, write_text_atomic
from ..logs import third_party_logs_to
from ..reporting.plots import plot_latency_table
from .config import ProfileConfig
from .layers import (LAYER_BATCH, LayerModel, calibrate_layers, grid_shapes, group_entries, own_ms, site_grids,
                     stair_group, staircase, staircase_shapes)
from .tables import (cached_path, grid_widths, measured_entry, merged_tables, staircase_widths, twin_entry,
                     validate_model, validation_row)
from .timing import DEVICE_SCRIPT
from .variants import VariantTimer, random_draws

KIT = "yoloprune-profile-kit"  # kit.json's kind
TIMINGS = "yoloprune-profile-timings"  # timings.json's kind (written by the kit's run_benchmark.py --profile)
IPHONE_CSV = "iphone_timings.csv"  # the profile kit's file the iPhone's timings (from Xcode) are typed into


@dataclass(frozen=True)
class TimingSet:
    """Variants of a kit timed together, interleaved with the dense model on the device: one group at the grid
    widths (``role="group"``, its ``widths``), the fine grid of one group (``"staircase"``), or one random
    variant (``"fit"`` for the joint latency model, ``"validate"`` to judge it). ``variants``: their ids."""

    role: str
    variants: list[str]
    group: str | None = None
    widths: list[int] | None = None

    def to_dict(self) -> dict:
        return {"role": self.role, **({"group": self.group} if self.group is not None else {}),
                **({"widths": list(self.widths)} if self.widths is not None else {}), "variants": list(self.variants)}


@dataclass(frozen=True)
class KitVariant:
    """One exported variant of a kit: its file (relative to the kit) and the group widths that differ from dense."""

    file: str
    changed: dict[str, int]

    def to_dict(self) -> dict:
        return {"file": self.file, "changed": dict(self.changed)}


@dataclass(frozen=True)
class KitNetwork:
    """One one-layer network of a per-layer kit: its file, the convolution it times (a
    :meth:`~yoloprune.core.layers.ConvShape.key`), how many copies of it (1 or 2: their difference is its cost in a
    model) and its input's shape."""

    file: str
    shape: str
    copies: int
    input: list[int]

    def to_dict(self) -> dict:
        return {"file": self.file, "shape": self.shape, "copies": self.copies, "input": list(self.input)}


@dataclass(frozen=True)
class KitSpec:
    """What a profile kit holds (its ``kit.json``): where the table is for (``hardware``, the ``runtime`` and
    ``precision`` it deploys, the format it ``ships``), the model (``fingerprint``, ``dense`` widths, split-block
    ``twins``), the grid ``fractions``, every exported variant and the sets the device times. ``partial``: a
    kit of the first groups only (``groups=``).

    A per-layer kit (``method="layers"``) also ships one-layer ``networks`` (timed in sets of role ``"layers"``,
    without the dense model), the model's ``layer_map`` (which convolutions each group changes, for the merge)
    and the group whose staircase its networks cover (``staircase_group``); its whole variants are the random
    ones that calibrate and judge the layer sum."""

    hardware: str
    runtime: str
    precision: str
    ships: str
    imgsz: int
    batch: int
    fingerprint: str
    dense: dict[str, int]
    twins: dict[str, str]
    fractions: list[float]
    variants: dict[str, KitVariant]
    sets: list[TimingSet]
    partial: str | None = None
    method: str = "variants"
    networks: dict[str, KitNetwork] = field(default_factory=dict)
    layer_map: LayerMap | None = None
    staircase_group: str | None = None

    def timed(self, s: TimingSet) -> list[str]:
        """What the device times for set ``s``, in order: the dense model first, except in a set of one-layer
        networks (their medians are compared with each other, not with the model)."""
        return list(s.variants) if s.role == "layers" else ["dense", *s.variants]

    def to_dict(self) -> dict:
        """The layout of ``kit.json`` (what the kit's ``run_benchmark.py`` reads)."""
        return {"kind": KIT, "hardware": self.hardware, "runtime": self.runtime, "precision": self.precision,
                "ships": self.ships, "imgsz": self.imgsz, "batch": self.batch, "fingerprint": self.fingerprint,
                "dense": dict(self.dense), "twins": dict(self.twins), "fractions": list(self.fractions),
                "variants": {vid: v.to_dict() for vid, v in self.variants.items()},
                "sets": [s.to_dict() for s in self.sets],
                **({"partial": self.partial} if self.partial is not None else {}),
                **({"method": self.method, "networks": {nid: n.to_dict() for nid, n in self.networks.items()},
                    "layer_map": self.layer_map.to_dict(), "staircase_group": self.staircase_group}
                   if self.method == "layers" else {})}

    @classmethod
    def from_dict(cls, d: dict, file="kit.json") -> KitSpec:
        if not isinstance(d, dict) or d.get("kind") != KIT:
            raise ConfigError(f"{file} is not a yoloprune profile kit")
        try:
            return cls(**{k: v for k, v in d.items() if k not in ("kind", "variants", "sets", "networks", "layer_map")},
                       variants={vid: KitVariant(**v) for vid, v in d["variants"].items()},
                       sets=[TimingSet(**s) for s in d["sets"]],
                       networks={nid: KitNetwork(**n) for nid, n in d.get("networks", {}).items()},
                       layer_map=LayerMap.from_dict(d["layer_map"]) if d.get("layer_map") else None)
        except (KeyError, TypeError, AttributeError, ValueError) as e:
            raise ConfigError(f"{file} is not a readable yoloprune profile kit ({type(e).__name__}: {e}): write the "
                              "kit again with yolo-prune profile hardware=...") from None


@dataclass(frozen=True)
class KitResult:
    """A written profile kit: what it holds (``report``), its folder (``kit``) inside the run folder."""

    report: KitSpec
    kit: Path
    run_dir: Path


def write_kit(model, config: ProfileConfig | None = None, *, project="runs/profile", name: str = "exp",
              exist_ok: bool = False, debug: bool = False, **options) -> KitResult:
    """Export the variants a device must time for ``model``'s latency table into the profile kit
    ``project/name/<hardware>_profile_kit``: the same variants as a local
    :func:`~yoloprune.profiling.profile.profile` with the same ``config`` (a
    :class:`~yoloprune.profiling.config.ProfileConfig`, or its fields as keywords) times, i.e. every group at
    the grid widths, a fine grid on one group, ``fit`` random variants for the joint model and ``validate``
    others to judge it. ``method="layers"`` (a Jetson's or a Mac's kit) ships instead every convolution pruning
    changes as one-layer networks (one and two copies, over the grid of its channels) and the few whole random
    variants that calibrate and judge their sum. The kit's own ``run_benchmark.py`` times them on the device (its
    runs and warm-up are chosen there). The exporters' output goes to the kit's ``export.log`` (``debug=True``:
    the console)."""
    config = from_options(ProfileConfig, config, options)
    device, fmt, precision = kit_target(config)
    ship = FORMATS[device.kit_format]  # what the device's runtime reads: the format itself, or ONNX it builds from
    ship_precision = precision if ship is fmt else "fp32"
    net, _ = load_model(model)
    out = run_dir(project, name, exist_ok)
    kit = out / f"{config.hardware}_profile_kit"
    (kit / "variants").mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, third_party_logs_to(None if debug else kit / "export.log") as console:
        timer = VariantTimer(net, ship, ship_precision, config.imgsz, 0, Path(tmp), deployed=True)
        names = list(timer.dense)[:config.groups] if config.groups else list(timer.dense)
        layers = config.measured_by == "layers"
        if layers:
            sets, changes, twins, layout = _layer_kit_sets(timer, names, config, ship, ship_precision, kit, console)
        else:
            (sets, changes, twins), layout = _kit_sets(timer, names, config), {}
        variants = {}
        todo = [("dense", {}), *changes.items()]
        for vid, changed in TQDM(todo, desc=f"exporting {len(todo)} variants for {config.hardware}", file=console):
            exported = timer.export({**timer.dense, **changed} if changed else None)
            dst = kit / "variants" / f"{vid}{ship.suffix}"
            if dst.exists():
                shutil.rmtree(dst) if dst.is_dir() else dst.unlink()
            shutil.move(str(exported), dst)
            variants[vid] = KitVariant(file=str(dst.relative_to(kit)), changed=changed)
    spec = KitSpec(hardware=config.hardware, runtime=fmt.name, precision=precision, ships=ship.name, imgsz=config.imgsz,
                   batch=1, fingerprint=fingerprint(timer.dense), dense=timer.dense, twins=twins,
                   fractions=list(config.grid), variants=variants, sets=sets,
                   partial=f"first {config.groups} groups only" if config.groups else None,
                   method="layers" if layers else "variants", **layout)
    write_json_atomic(spec.to_dict(), kit / "kit.json")
    shutil.copy2(DEVICE_SCRIPT, kit / "run_benchmark.py")
    if not layers:  # (a per-layer kit is never typed in by hand: the iPhone's kits time whole variants)
        write_text_atomic("# device: \n# compute units: ALL\nvariant,file,median_ms\n"
                          + "".join(f"{vid},{v.file},\n" for vid, v in variants.items()), kit / IPHONE_CSV)
    write_text_atomic(_readme(device, spec), kit / "README.txt")
    return KitResult(report=spec, kit=kit, run_dir=out)


def kit_target(config: ProfileConfig) -> tuple[Hardware, ExportFormat, str]:
    """``(device, format, precision)`` of a kit, or the one clear error (checked before anything is written)."""
    device = config.device
    if device.measured_here:
        raise ConfigError(f"hardware={config.hardware} is this machine: profile it here (no kit needed)")
    fmt, precision = config.target
    if fmt.name != device.format:
        raise ConfigError(f"hardware={config.hardware} runs {device.format}: give one precision, e.g. "
                          f"format={device.format}:{device.precisions[0]}")
    if config.measured_by == "layers" and FORMATS[device.kit_format].layer_network is None:
        raise ConfigError(f"method=layers: no one-layer {device.kit_format} networks are built for "
                          f"hardware={config.hardware}; leave method out (whole variants)")
    if config.compute_units is not None:
        raise ConfigError(f"compute_units={config.compute_units}: chosen where the kit is timed "
                          "(run_benchmark.py --profile --compute-units on the Mac; Xcode's report on the iPhone); "
                          "give it to prune with target=latency")
    return device, fmt, precision


class _Variants:
    """A kit's whole variants as they are added: ids ``v1``, ``v2``, ... with the widths that differ from dense."""

    def __init__(self, dense: dict[str, int]):
        self.dense, self.changes = dense, {}

    def add(self, widths: dict[str, int]) -> str:
        vid = f"v{len(self.changes) + 1}"
        self.changes[vid] = {g: w for g, w in widths.items() if w != self.dense[g]}
        return vid


def _twins(timer: VariantTimer, names) -> dict[str, str]:
    """Each split block's second half among ``names`` -> its first: it moves with its twin, which holds the pair's
    saving."""
    twins, seen = {}, set()
    for name in names:
        if timer.partner.get(name) in seen:
            twins[name] = timer.partner[name]
        seen.add(name)
    return twins


def _random_sets(timer: VariantTimer, names, config: ProfileConfig, free: int, variants: _Variants) -> list[TimingSet]:
    """One set per random whole variant: those a local profile with the same seed times."""
    return [TimingSet(draw.role, [variants.add(widths)]) for draw in random_draws(config, free)
            for widths in timer.drawn(draw, names)]


def _kit_sets(timer: VariantTimer, names, config: ProfileConfig):
    """The timing sets (each timed interleaved with the dense model on the device), every variant's changed
    widths by id, and the split-block twins."""
    variants, twins = _Variants(timer.dense), _twins(timer, names)
    sets = []
    for name in names:
        if name not in twins:
            widths = grid_widths(timer.dense[name], config.grid)
            sets.append(TimingSet("group", [variants.add(timer.with_group(name, w)) for w in widths], name, widths))
    # the staircase is read where latency moves most; without a measurement: the group whose narrowest width
    # removes the most MACs
    dense_macs = model_stats(timer.model, config.imgsz).macs

    def macs_saved(s: TimingSet):
        return dense_macs - model_stats(pruned_to(timer.model, timer.with_group(s.group, s.widths[0]), config.imgsz),
                                        config.imgsz).macs

    stair = max(sets, key=macs_saved).group
    fine = staircase_widths(timer.dense[stair])
    sets.append(TimingSet("staircase", [variants.add(timer.with_group(stair, w)) for w in fine], stair, fine))
    sets += _random_sets(timer, names, config, len(names) - len(twins), variants)
    return sets, variants.changes, twins


def _layer_kit_sets(timer: VariantTimer, names, config: ProfileConfig, ship: ExportFormat, precision: str, kit: Path,
                    console):
    """A per-layer kit's timing sets (one-layer networks in batches, then the random whole variants), every whole
    variant's changed widths by id, the split-block twins, and the kit's per-layer fields (networks written into
    ``kit/layers``)."""
    map_ = layer_map(copy.deepcopy(timer.model), config.imgsz)
    if config.groups:  # a partial kit: only its groups vary, only the layers they change are timed
        map_ = map_.only(names)
    stair = stair_group(map_, timer.with_group, config.grid)
    shapes = grid_shapes(map_, site_grids(map_, config.grid)) + staircase_shapes(map_, stair, timer.with_group)
    unique = sorted({s.key(): s for s in shapes}.values(), key=lambda s: s.macs)
    folder = kit / "layers"
    folder.mkdir(exist_ok=True)
    networks = {}
    desc = f"writing {2 * len(unique)} one-layer networks ({len(unique)} layer shapes)"
    for n, shape in enumerate(TQDM(unique, desc=desc, file=console)):
        for copies in (1, 2):
            path = ship.layer_network(shape, folder / f"l{n}x{copies}{ship.suffix}", copies, precision)
            networks[f"l{n}x{copies}"] = KitNetwork(str(path.relative_to(kit)), shape.key(), copies,
                                                     [1, shape.cin, *shape.hw])
    ids = list(networks)
    sets = [TimingSet("layers", ids[i:i + 2 * LAYER_BATCH]) for i in range(0, len(ids), 2 * LAYER_BATCH)]
    variants, twins = _Variants(timer.dense), _twins(timer, names)
    sets += _random_sets(timer, names, config, len(names) - len(twins), variants)
    return sets, variants.changes, twins, {"networks": networks, "layer_map": map_, "staircase_group": stair}


def _readme(device: Hardware, spec: KitSpec) -> str:
    n = len(spec.variants)
    if spec.method == "layers":
        what = (f"a per-layer kit: {len(spec.networks)} one-layer networks (each convolution pruning changes, as "
                f"one and two copies) and {n} whole variants")
    else:
        what = f"{n} variants of one model"
    text = (
        f"yoloprune profile kit: {what} for a latency table on {device.name} "
        f"({spec.runtime}:{spec.precision}, imgsz {spec.imgsz}, batch 1).\n\n"
        "Jetson (JetPack's trtexec; lock the clocks first with `sudo jetson_clocks`):\n"
        "  python3 run_benchmark.py --profile            # builds every engine, then times each set interleaved\n"
        "Mac (coremltools; the table is labelled `mac` with the chip and the compute units):\n"
        "  python3 run_benchmark.py --profile --compute-units ALL    # or CPU_AND_NE, CPU_ONLY, CPU_AND_GPU\n")
    if spec.method != "layers":
        text += (
            "iPhone (Python does not run on the phone): open each variants/*.mlpackage in Xcode, Performance tab, "
            "+ > the connected iPhone, and type the report's median Prediction time (ms) into "
            f"{IPHONE_CSV} (one row per variant; name the phone and iOS on its line '# device: iPhone 15 Pro, iOS 18' "
            "and the compute units the report ran with on '# compute units: ALL' (or CPU_AND_NE, CPU_AND_GPU, "
            "CPU_ONLY; one table per choice)). "
            "Fewer variants: write the kit with fractions=0.5 fit=20 validate=4.\n")
    return text + (
        "An interrupted run resumes where it stopped (run the same command again).\n"
        "Check the kit here first (ONNX kits, ONNX Runtime on this machine's CPU, labelled dry-run):\n"
        "  python3 run_benchmark.py --profile --dry-run\n\n"
        "Bring the table back to the training machine:\n"
        "  yolo-prune profile merge=timings.json"
        f"{'' if spec.method == 'layers' else f'      (or merge={IPHONE_CSV})'}\n"
        "then prune with target=latency hardware=<device> format=<format:precision> (CoreML: one table per compute "
        "units; prune with compute_units=<the units timed>, default ALL).\n")


# ----------------------------------------------------------------------------- merge
def merge(path, cache_dir=None, kit=None) -> Path:
    """Bring a latency table measured elsewhere into the cache, where ``target=latency`` finds it by key: a table
    JSON, a kit's ``timings.json`` (``run_benchmark.py --profile``) or its filled ``iphone_timings.csv``."""
    path = Path(path)
    if path.suffix.lower() == ".csv":
        spec = _kit_spec(kit or path.parent)
        table = table_from_timings(spec, _iphone_timings(path, spec))
    else:
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError) as e:
            raise ConfigError(f"merge={path} is not readable ({e}): give a latency table, a kit's timings.json or "
                              f"its {IPHONE_CSV}") from None
        if isinstance(data, dict) and data.get("kind") == TIMINGS:
            table = table_from_timings(_kit_spec(kit or path.parent), data)
        else:
            table = LatencyTable.from_dict(data)
    out = write_json_atomic(table.to_dict(), cached_path(table.key, cache_dir))
    plot_latency_table(table, out.with_suffix(".png"))
    return out


def _kit_spec(folder) -> KitSpec:
    file = Path(folder) / "kit.json"
    try:
        spec = json.loads(file.read_text())
    except (OSError, ValueError) as e:
        raise ConfigError(f"no profile kit at {file} ({e}): keep the timings beside the kit's kit.json, or give "
                          "kit=<kit folder>") from None
    return KitSpec.from_dict(spec, file)


def _iphone_timings(path: Path, spec: KitSpec) -> dict:
    """The filled CSV as timings: every set shares the one dense median (Xcode times one model at a time)."""
    text = path.read_text().splitlines()
    fmt = FORMATS[spec.runtime]
    choices = fmt.compute_units
    notes = _csv_notes(path, [line for line in text if line.startswith("#")], choices)
    device = notes.get("device", "")
    ms = {}
    for row in csv.DictReader(line for line in text if not line.startswith("#")):
        if (row.get("median_ms") or "").strip():
            try:
                ms[row["variant"]] = float(row["median_ms"])
            except ValueError:
                raise ConfigError(f"{path}: variant {row['variant']} has median_ms={row['median_ms']!r}, not a "
                                  "number of milliseconds") from None
    missing = [v for v in spec.variants if v not in ms]
    if missing:
        raise ConfigError(f"{path}: {len(missing)} variants have no median_ms (first: {', '.join(missing[:5])}): "
                          "time each package in Xcode's Core ML performance report and fill them in")
    units = notes.get("compute_units")  # Xcode's report runs with All unless told otherwise
    if not units and re.search(r"neural|units|\bgpu\b|\bcpu\b|\bane\b", device, re.IGNORECASE):
        raise ConfigError(f"{path}: the device line names compute units ('{device}'): give them a line of their own, "
                          f"'# compute units: <{'|'.join(choices)}>'")
    try:
        keyed = fmt.units(units)
    except ConfigError as e:
        raise ConfigError(f"{path}, line '# compute units: {units}': {e}") from None
    return {"kind": TIMINGS, "hardware": spec.hardware, "fingerprint": spec.fingerprint, "compute_units": keyed,
            "machine": {"device": device or "not given",
                        "source": "Xcode Core ML performance report (median prediction)",
                        **({} if units else {"compute_units": "not given in the CSV: Xcode's default (All)"})},
            "sets": [{"variants": ["dense", *s.variants], "ms": [ms["dense"], *(ms[v] for v in s.variants)]}
                     for s in spec.sets]}


def _csv_notes(path: Path, lines: list[str], choices: tuple[str, ...]) -> dict[str, str]:
    """The CSV's '# device: ...' and '# compute units: ...' lines (a line without a key: the device, as kits
    written before the units line had it)."""
    notes = {}
    for line in lines:
        text = line.lstrip("#").strip()
        key, colon, value = text.partition(":")
        key = key.strip().lower().replace("-", " ").replace("_", " ")
        if not colon:
            notes.setdefault("device", text)
        elif key in ("device", "compute units"):
            notes[key.replace(" ", "_")] = value.strip()
        else:
            raise ConfigError(f"{path}: line '{line}': the CSV takes '# device: <phone, iOS>' and "
                              f"'# compute units: <{'|'.join(choices)}>' lines only")
    return notes


def table_from_timings(spec: KitSpec, timings: dict) -> LatencyTable:
    """The latency table from a kit and the device's medians (every set's first entry: the dense model)."""
    if timings.get("fingerprint") != spec.fingerprint or len(timings.get("sets", ())) != len(spec.sets):
        raise ConfigError("these timings are not of this kit (another model or kit): run the kit's own "
                          "run_benchmark.py --profile")
    runtime = timings.get("runtime", spec.runtime)  # a dry run times ONNX whatever the kit is for
    units = timings.get("compute_units") or timings.get("machine", {}).get("compute_units")  # (older kits: machine)
    key = TableKey(timings["hardware"], runtime, timings.get("precision", spec.precision), spec.imgsz,
                   spec.batch, int(timings.get("threads") or 0), spec.fingerprint,
                   FORMATS[runtime].units(units) if runtime in FORMATS else "")
    for s, t in zip(spec.sets, timings["sets"]):
        if t["variants"] != spec.timed(s):
            raise ConfigError(f"timings set {t['variants'][:3]}... does not match the kit's {s.variants[:2]}...")
    whole = [(s, t["ms"][0], t["ms"][1:]) for s, t in zip(spec.sets, timings["sets"]) if s.role != "layers"]
    # the dense model's median: of the sets that time one group (else of every set it was timed in)
    dense_ms = statistics.median([d for s, d, _ in whole if s.role == "group"] or [d for _, d, _ in whole])
    table = LatencyTable(key=key, dense_ms=dense_ms, measured_on=timings.get("machine", {}))
    if spec.method == "layers":
        return _layer_table(spec, table, timings, whole)
    rows = {"fit": [], "validate": []}
    for s, dense, ms in whole:
        if s.role == "group":
            table.groups[s.group] = measured_entry(spec.dense[s.group], s.widths, ms, dense)
        elif s.role == "staircase":
            table.staircase = Staircase(group=s.group, widths=s.widths, ms=ms)
        else:
            rows[s.role].append((spec.variants[s.variants[0]].changed, ms[0], dense))
    for name, twin in spec.twins.items():
        table.groups[name] = twin_entry(table, twin, spec.dense[name], grid_widths(spec.dense[name], spec.fractions))
    fit, val = ([validation_row(table, {**spec.dense, **changed}, ms, dense) for changed, ms, dense in rows[role]]
                for role in ("fit", "validate"))
    if val:
        validate_model(table, fit, val)
    return table


def _layer_table(spec: KitSpec, table: LatencyTable, timings: dict, whole: list) -> LatencyTable:
    """A per-layer kit's table: each convolution's cost from its one- and two-copy networks, the groups' entries
    and the staircase predicted from the layer sum, calibrated and judged on the kit's whole random variants."""
    by_copies = {}  # (shape, copies) -> median
    for s, t in zip(spec.sets, timings["sets"]):
        if s.role == "layers":
            for v, ms in zip(t["variants"], t["ms"]):
                by_copies[spec.networks[v].shape, spec.networks[v].copies] = ms
    cost = {shape: own_ms(ms, by_copies[shape, 2]) for (shape, copies), ms in by_copies.items() if copies == 1}
    map_ = spec.layer_map
    layout = GroupLayout(dict(spec.dense), tuple((twin, name) for name, twin in spec.twins.items()))
    layers = LayerModel(map_, site_grids(map_, spec.fractions), lambda shape: cost[shape.key()])
    table.groups = group_entries(layers, table.dense_ms, spec.fractions, layout.with_width, layout.partner,
                                 list(map_.widths))
    table.staircase = staircase(layers, lambda shape: cost[shape.key()], table.dense_ms, spec.staircase_group,
                                layout.with_width)
    table.measured_on = {**table.measured_on, "method": "layers", "layer_sites": len(map_.sites),
                         "layer_shapes_timed": len(cost)}
    rows = {"fit": [], "validate": []}
    for s, dense, measured in whole:
        rows[s.role].append(validation_row(table, {**spec.dense, **spec.variants[s.variants[0]].changed},
                                           measured[0], dense))
    calibrate_layers(table, layers, rows["fit"], rows["validate"])
    return table


def merged_table(model, config: ProfileConfig, cache_dir=None) -> LatencyTable:
    """The table of ``model`` on ``config.hardware`` (a device, not this machine) merged from its profile kit, for
    the compute units asked; else the one error saying what to merge or ask for."""
    fmt, precision = config.target
    units = config.units
    key = TableKey(config.hardware, fmt.name, precision, config.imgsz, 1, 0,
                   fingerprint(group_layout(load_model(model)[0]).widths), units)
    tables = merged_tables(key, cache_dir)
    if units in tables:
        return tables[units]
    if tables:
        raise ConfigError(f"hardware={config.hardware}: the merged tables of this model were timed with compute units "
                          f"{', '.join(sorted(tables))}, not {units}: give compute_units={min(tables)}, or time the "
                          f"kit with {units} (a Mac: run_benchmark.py --profile --compute-units {units}; the iPhone: "
                          f"Xcode's report and a line '# compute units: {units}' in {IPHONE_CSV}) and merge it")
    raise ConfigError(f"hardware={config.hardware} is not this machine and no table of it is merged for this model at "
                      f"imgsz={config.imgsz}: write a profile kit ('yolo-prune profile model=... "
                      f"hardware={config.hardware} format={config.format}'), time it on the device and "
                      "'yolo-prune profile merge=<kit>/timings.json'")
