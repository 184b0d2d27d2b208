"""Latency tables of devices that are not this machine (Jetson, Mac, iPhone): a profile kit, and its merge.

``yolo-prune profile model=best.pt hardware=jetson format=engine:fp16`` cannot time anything here, so it
writes a *kit*: every variant a local profile would time (each group at the grid widths with the rest
dense, a fine grid on one group for ``round_to=auto``, random variants for the latency model's
validation), exported to what the device runs (ONNX that TensorRT builds into engines on the Jetson;
CoreML packages for the Mac and the iPhone), ``kit.json`` naming them, and the bundle's standalone
``run_benchmark.py`` whose ``--profile`` mode times them there, each set interleaved with the dense model,
and writes ``timings.json``. ``yolo-prune profile merge=<timings.json>`` builds the same latency table a
local profile writes, keyed by where it was measured (``jetson``, ``mac`` with its chip and compute
units), and caches it for ``target=latency``.

The iPhone: Python does not run on the phone. Each package's median prediction time comes from Xcode's
Core ML performance report on the connected phone, typed into the kit's ``iphone_timings.csv``, merged the
same way (labelled ``iphone``). A table timed on a Mac is never labelled ``iphone``.
"""

from __future__ import annotations

import csv
import json
import random
import re
import shutil
import statistics
import tempfile
from pathlib import Path

from ultralytics.utils import TQDM

from ..core.latency import LatencyTable, TableKey, choose_model, fingerprint
from ..core.prune import pruned_to
from ..core.stats import model_stats
from ..errors import ConfigError
from ..integrations.ultralytics.model_io import load_model
from ..io import write_json_atomic, write_text_atomic
from ..logs import third_party_logs_to
from ..reporting.plots import plot_latency_table
from ..export.formats import FORMATS, hardware as hardware_entry, parse_formats
from .timing import DEVICE_SCRIPT
from .profile import (GRID, IPHONE_CSV, VariantTimer, cached_path, grid_widths, staircase_widths, twin_entry, validation_row,
                      validation_summary)

KIT = "yoloprune-profile-kit"
TIMINGS = "yoloprune-profile-timings"


def write_kit(model, hardware: str, format: str, imgsz: int = 640, out_dir=".", fractions=None, validate: int = 10,
              fit: int | None = None, seed: int = 0, groups: int | None = None, log_file="auto") -> Path:
    """Export the variants a device must time for ``model``'s latency table into ``out_dir/<hardware>_profile_kit``
    (the same variants as :func:`~yoloprune.export.profile.profile`: ``fit`` random variants for the joint
    model, default twice the free groups; ``validate`` others to judge it)."""
    device, fmt, precision = kit_target(hardware, format, imgsz)
    fractions = tuple(fractions or GRID)
    ship = FORMATS[device.kit_format]  # what the device's runtime reads: the format itself, or ONNX it builds from
    ship_precision = precision if ship is fmt else "fp32"
    net, _ = load_model(model)
    kit = Path(out_dir) / f"{hardware}_profile_kit"
    (kit / "variants").mkdir(parents=True, exist_ok=True)
    if log_file == "auto":
        log_file = kit / "export.log"
    with tempfile.TemporaryDirectory() as tmp, third_party_logs_to(log_file) as console:
        timer = VariantTimer(net, ship, ship_precision, imgsz, 0, Path(tmp), deployed=True)
        names = list(timer.dense)[:groups] if groups else list(timer.dense)
        sets, twins = _kit_sets(timer, names, fractions, validate, fit, seed, imgsz)
        variants = {}
        todo = [("dense", {})] + [(v["id"], v["changed"]) for s in sets for v in s.pop("_variants")]
        for vid, changed in TQDM(todo, desc=f"exporting {len(todo)} variants for {hardware}", file=console):
            exported = timer.export({**timer.dense, **changed} if changed else None)
            dst = kit / "variants" / f"{vid}{ship.suffix}"
            if dst.exists():
                shutil.rmtree(dst) if dst.is_dir() else dst.unlink()
            shutil.move(str(exported), dst)
            variants[vid] = {"file": str(dst.relative_to(kit)), "changed": changed}
    spec = {"kind": KIT, "hardware": hardware, "runtime": fmt.name, "precision": precision, "ships": ship.name,
            "imgsz": imgsz, "batch": 1, "fingerprint": fingerprint(timer.dense), "dense": timer.dense,
            "twins": twins, "fractions": list(fractions), "variants": variants, "sets": sets,
            **({"partial": f"first {groups} groups only"} if groups else {})}
    write_json_atomic(spec, kit / "kit.json")
    shutil.copy2(DEVICE_SCRIPT, kit / "run_benchmark.py")
    write_text_atomic("# device: \n# compute units: ALL\nvariant,file,median_ms\n"
                      + "".join(f"{vid},{v['file']},\n" for vid, v in variants.items()), kit / IPHONE_CSV)
    write_text_atomic(_readme(device, spec), kit / "README.txt")
    return kit


def kit_target(hardware: str, format: str, imgsz: int):
    """``(device, format, precision)`` of a kit, or the one clear error (checked before anything is written)."""
    device = hardware_entry(hardware)
    if device.measured_here:
        raise ConfigError(f"hardware={hardware} is this machine: profile it here (no kit needed)")
    items = parse_formats(format)
    if len(items) != 1 or items[0][0].name != device.format:
        raise ConfigError(f"hardware={hardware} runs {device.format}: give one precision, e.g. "
                          f"format={device.format}:{device.precisions[0]}")
    if imgsz % 32:
        raise ConfigError(f"imgsz={imgsz} must be a multiple of 32")
    return device, *items[0]


def _kit_sets(timer: VariantTimer, names, fractions, validate: int, fit: int | None, seed: int, imgsz: int):
    """The timing sets (each timed interleaved with the dense model on the device) and the split-block twins."""
    sets, twins, seen, n = [], {}, set(), 0

    def variant(widths):
        nonlocal n
        n += 1
        return {"id": f"v{n}", "changed": {g: w for g, w in widths.items() if w != timer.dense[g]}}

    for name in names:
        twin = timer.partner.get(name)
        if twin in seen:
            twins[name] = twin  # moves with its twin, which holds the pair's saving
            continue
        seen.add(name)
        d = timer.dense[name]
        vs = [variant(timer.with_group(name, w)) for w in grid_widths(d, fractions)]
        sets.append({"role": "group", "group": name, "widths": grid_widths(d, fractions), "_variants": vs,
                     "variants": [v["id"] for v in vs]})
    # the staircase is read where latency moves most; without a measurement: the group whose narrowest width
    # removes the most MACs
    dense_macs = model_stats(timer.model, imgsz).macs

    def macs_saved(s):
        return dense_macs - model_stats(pruned_to(timer.model, timer.with_group(s["group"], s["widths"][0]), imgsz),
                                        imgsz).macs

    stair = max(sets, key=macs_saved)["group"]
    fine = staircase_widths(timer.dense[stair])
    vs = [variant(timer.with_group(stair, w)) for w in fine]
    sets.append({"role": "staircase", "group": stair, "widths": fine, "_variants": vs, "variants": [v["id"] for v in vs]})
    if fit is None:
        fit = max(20, 2 * len(seen))
    for role, n_random, rng in (("fit", fit if validate else 0, random.Random(seed + 2)),
                                ("validate", validate, random.Random(seed + 1))):  # the seeds a local profile uses
        for _ in range(n_random):
            v = variant(timer.random_widths(rng, min(fractions), names))
            sets.append({"role": role, "_variants": [v], "variants": [v["id"]]})
    return sets, twins


def _readme(device, spec: dict) -> str:
    n = len(spec["variants"])
    return (
        f"yoloprune profile kit: {n} variants of one model for a latency table on {device.name} "
        f"({spec['runtime']}:{spec['precision']}, imgsz {spec['imgsz']}, batch 1).\n\n"
        "Jetson (JetPack's trtexec; lock the clocks first with `sudo jetson_clocks`):\n"
        "  python3 run_benchmark.py --profile            # builds every engine, then times each set interleaved\n"
        "Mac (coremltools; the table is labelled `mac` with the chip and the compute units):\n"
        "  python3 run_benchmark.py --profile --compute-units ALL    # or CPU_AND_NE, CPU_ONLY, CPU_AND_GPU\n"
        "iPhone (Python does not run on the phone): open each variants/*.mlpackage in Xcode, Performance tab, "
        "+ > the connected iPhone, and type the report's median Prediction time (ms) into "
        f"{IPHONE_CSV} (one row per variant; name the phone and iOS on its line '# device: iPhone 15 Pro, iOS 18' "
        "and the compute units the report ran with on '# compute units: ALL' (or CPU_AND_NE, CPU_AND_GPU, CPU_ONLY; "
        "one table per choice)). "
        "Fewer variants: write the kit with fractions=0.5 fit=20 validate=4.\n"
        "Check the kit here first (ONNX kits, ONNX Runtime on this machine's CPU, labelled dry-run):\n"
        "  python3 run_benchmark.py --profile --dry-run\n\n"
        "Bring the table back to the training machine:\n"
        f"  yolo-prune profile merge=timings.json      (or merge={IPHONE_CSV})\n"
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


def _kit_spec(folder) -> dict:
    file = Path(folder) / "kit.json"
    try:
        spec = json.loads(file.read_text())
    except (OSError, ValueError) as e:
        raise ConfigError(f"no profile kit at {file} ({e}): keep the timings beside the kit's kit.json, or give "
                          "kit=<kit folder>") from None
    if spec.get("kind") != KIT:
        raise ConfigError(f"{file} is not a yoloprune profile kit")
    return spec


def _iphone_timings(path: Path, spec: dict) -> dict:
    """The filled CSV as timings: every set shares the one dense median (Xcode times one model at a time)."""
    text = path.read_text().splitlines()
    fmt = FORMATS[spec["runtime"]]
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
    missing = [v for v in spec["variants"] if v not in ms]
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
    return {"kind": TIMINGS, "hardware": spec["hardware"], "fingerprint": spec["fingerprint"], "compute_units": keyed,
            "machine": {"device": device or "not given",
                        "source": "Xcode Core ML performance report (median prediction)",
                        **({} if units else {"compute_units": "not given in the CSV: Xcode's default (All)"})},
            "sets": [{"variants": ["dense", *s["variants"]], "ms": [ms["dense"], *(ms[v] for v in s["variants"])]}
                     for s in spec["sets"]]}


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


def table_from_timings(spec: dict, timings: dict) -> LatencyTable:
    """The latency table from a kit and the device's medians (every set's first entry: the dense model)."""
    if timings.get("fingerprint") != spec["fingerprint"] or len(timings.get("sets", ())) != len(spec["sets"]):
        raise ConfigError("these timings are not of this kit (another model or kit): run the kit's own "
                          "run_benchmark.py --profile")
    runtime = timings.get("runtime", spec["runtime"])  # a dry run times ONNX whatever the kit is for
    units = timings.get("compute_units") or timings.get("machine", {}).get("compute_units")  # (older kits: machine)
    key = TableKey(timings["hardware"], runtime, timings.get("precision", spec["precision"]), spec["imgsz"],
                   spec["batch"], int(timings.get("threads") or 0), spec["fingerprint"],
                   FORMATS[runtime].units(units) if runtime in FORMATS else "")
    dense_ms = statistics.median(t["ms"][0] for s, t in zip(spec["sets"], timings["sets"]) if s["role"] == "group")
    table = LatencyTable(key=key, dense_ms=dense_ms, measured_on=timings.get("machine", {}))
    rows = {"fit": [], "validate": []}
    for s, t in zip(spec["sets"], timings["sets"]):
        if t["variants"] != ["dense", *s["variants"]]:
            raise ConfigError(f"timings set {t['variants'][:3]}... does not match the kit's {s['variants'][:2]}...")
        dense, ms = t["ms"][0], t["ms"][1:]
        if s["role"] == "group":
            table.groups[s["group"]] = {"dense": spec["dense"][s["group"]], "widths": [*s["widths"], spec["dense"][s["group"]]],
                                        "ms": [*ms, dense]}
        elif s["role"] == "staircase":
            table.staircase = {"group": s["group"], "widths": s["widths"], "ms": ms}
        else:
            rows[s["role"]].append((spec["variants"][s["variants"][0]]["changed"], ms[0], dense))
    for name, twin in spec["twins"].items():
        table.groups[name] = twin_entry(table, twin, spec["dense"][name], grid_widths(spec["dense"][name], spec["fractions"]))
    fit, val = ([validation_row(table, {**spec["dense"], **changed}, ms, dense) for changed, ms, dense in rows[role]]
                for role in ("fit", "validate"))
    if val:
        table.validation = choose_model(table, fit, val) if fit else validation_summary(table, val)
        table.validation["variants"] = val
    return table
