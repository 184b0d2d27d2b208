"""Issue 16 benchmark: at equal measured latency, is ``target=latency`` as accurate as ``target=macs``?
And how fast is the latency-pruned model in INT8 against the dense FP32 one, at what mAP cost?

    .venv/bin/python benchmarks/latency_accuracy.py --start <trained dense .pt> --data shapes \
        [--amount 0.5] [--epochs 10] [--seeds 0,1] [--imgsz 320] [--out benchmarks/results/latency_accuracy_shapes]

From one trained dense checkpoint (``--start``; e.g. the demo's ``dense/weights/best.pt`` or the
real-photo benchmark's pretrained start):

1. the latency table of the start is profiled on this CPU (``yolo-prune profile``, cached);
2. arm ``latency``: one-shot ``target=latency allocation=knapsack amount=A`` (HALP's knapsack over the table,
   default criterion, with data) and the closed loop (the OpenVINO IR measured against dense, budget corrected);
3. arm ``macs``: one-shot ``target=macs`` (the global ranking), its MACs amount searched (bracketed secant, at
   most 6 probes) until its *measured* latency equals the latency arm's (within 2 %): the two arms run equally
   fast. This is what ``target=latency`` with the default ``allocation=global`` prunes (the same ranking, cut
   where the table and the closed loop put the asked latency);
4. every arm, and the dense model, is fine-tuned ``--epochs`` epochs from there with the same recipe, for
   each seed: equal epochs, equal measured latency;
5. the seed-0 models are exported (OpenVINO FP32 IR and NNCF INT8 IR, calibrated on the dataset) and
   timed together, interleaved (``--runs`` rounds, shuffled each round), FP32 forced and read back;
   every seed's INT8 IR is validated (mAP50-95 of the INT8 model itself).

``--int8-speedup S`` adds arm ``latency-int8``: pruned for the *deployed* INT8 model, i.e. on an INT8 latency
table (``yolo-prune profile format=openvino:int8 data=...``) with the closed loop measuring NNCF's INT8 IR,
asking for S x the dense FP32 model's speed (the dense FP32 / INT8 ratio is timed interleaved first, so the
amount asked of the INT8 table is ``(dense_fp32 / S) / dense_int8``). It is fine-tuned like the other arms.

``--sensitivity-drop D`` adds arm ``latency-sensitivity`` (and ``latency-int8-sensitivity`` with ``--int8-speedup``):
the same ``target=latency`` within the per-group limits of a sensitivity analysis of the start (``yolo-prune
sensitivity``, each group pruned alone; ``allocation=sensitivity sensitivity_drop=D``): the knapsack cannot thin
a group further than the fraction whose mAP dropped by at most D.

``--arms dense,latency-0.42`` fine-tunes, exports and times only those arms (the others are pruned or reused as
usual): e.g. a longer fine-tune of a few arms of an earlier run, whose pruned arms ``--reuse-arms <its --out>``
reads (its ``arms.json``) when the new ``--out`` has none yet.

``--round-to 16`` adds arm ``latency-r16``: the latency arm with widths multiples of 16 (8 by default), to see
whether widths on the CPU's channel blocks pay once quantised.

``--distill both`` adds, for every pruned arm fine-tuned, its twin ``<arm>+kd``: the same pruned checkpoint
fine-tuned the same epochs while distilling from ``--start`` (the dense model it was pruned from; ``distill=MODE``,
``--distill-weight``), so the table shows what distillation adds at equal epochs. The dense arm is fine-tuned
without a teacher, as before.

``--curve 0.8,0.65`` adds arms ``latency-0.8``, ``latency-0.65``: ``target=latency`` as it prunes by default (the
global ranking on the FP32 table, closed loop) at those amounts, so the FP32 and INT8 speed / accuracy trade-off
is measured in the same run. Every run plots all its arms, FP32 and INT8, in ``tradeoff.png`` and names the
fastest INT8 model within 1.5 points of the dense FP32 one (the issue's INT8 goal).

``--pretrain N`` first trains ``--start`` N more epochs, dense, seed 0, with the same recipe
(``runs/finetune/dense-pretrain``), and starts every arm from that model instead: the start a user has, a model
trained until its mAP stops rising, rather than one still climbing (where every fine-tune also trains the dense arm
further and the gap measured is partly the pruned model's head start lost). Its last epochs' mAP is in the table.

Resumable: the pruned arms are recorded in ``arms.json`` (reused on a rerun with the same ``--out``), finished
fine-tunes are kept (their ``results.csv`` has every epoch).

Writes ``results.json``, ``table.md`` and ``tradeoff.png`` into ``--out``; with ``--tag T``, ``results_T.json``,
``table_T.md`` and ``tradeoff_T.png`` (a second run into the same ``--out`` keeps the first one's files).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time

import yaml
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from yoloprune.core.config import DISTILL  # noqa: E402  (imports no Ultralytics: offline.configure() still runs first)

# the fine-tune recipe: a registered dataset's own recipe as the demo fine-tunes with it (half its lr0, no
# warm-up); otherwise the real-photo arms' recipe (benchmarks/real_photos.py)
REAL_PHOTOS = {"batch": 16, "workers": 0, "cache": "ram", "optimizer": "AdamW", "lr0": 0.0002, "close_mosaic": 10,
               "warmup_epochs": 0}


def finetune_recipe(data: str) -> dict:
    from yoloprune.data.registry import dataset_recipe

    recipe = dataset_recipe(data) if not data.endswith((".yaml", ".yml")) else {}
    if not recipe:
        return {**REAL_PHOTOS, "plots": False}
    args = {k: v for k, v in recipe.items() if k not in {"model", "epochs", "imgsz"}}
    return {**args, "warmup_epochs": 0, "lr0": args.get("lr0", 0.002) / 2, "plots": False}


def matched_macs_arm(start, data, imgsz, want: float, first: float, meter, prune, PruneConfig, out: Path):
    """Prune to MACs at the amount whose measured latency (fraction of dense) is ``want``: a secant step
    (at most 0.1 of MACs) kept inside the bracket found so far, at most 6 probes, 2 % tolerance."""
    tried, lo, hi = [], 0.02, 0.98  # amounts known to be too fast / too slow
    amount = first
    for _ in range(6):
        res = prune(start, PruneConfig(target="macs", amount=round(amount, 4), imgsz=imgsz), data=data,
                    project=out / "runs" / "prune", name=f"macs-{amount:.4f}", exist_ok=True)
        ratio = meter.compare(res.checkpoint)["ratio"]
        tried.append({"amount": amount, "measured": ratio, "result": res})
        print(f"  macs amount {amount:.3f}: measured latency {ratio:.3f} of dense (want {want:.3f})", flush=True)
        if abs(ratio - want) / want <= 0.02:
            break
        lo, hi = (max(lo, amount), hi) if ratio < want else (lo, min(hi, amount))
        prev = tried[-2] if len(tried) > 1 else None
        slope = (ratio - prev["measured"]) / (amount - prev["amount"]) if prev and amount != prev["amount"] else 0
        step = (want - ratio) / slope if slope > 0 else amount * (want / ratio - 1)
        amount = amount + max(-0.1, min(0.1, step))
        if not lo < amount < hi:
            amount = (lo + hi) / 2
    best = min(tried, key=lambda t: abs(t["measured"] - want))
    return best, [{k: v for k, v in t.items() if k != "result"} for t in tried]


def finished(best_pt: Path, epochs: int) -> bool:
    """Whether the fine-tune that writes ``best_pt`` ran all its epochs (its ``results.csv`` has a row for each)."""
    csv = best_pt.parents[1] / "results.csv"
    return csv.exists() and len(csv.read_text().splitlines()) > epochs


def epoch_maps(best_pt: Path) -> list[float]:
    """mAP50-95 after every epoch of the run that wrote ``best_pt``."""
    import csv

    with open(best_pt.parents[1] / "results.csv") as f:
        return [round(float(row["metrics/mAP50-95(B)"]), 4) for row in csv.DictReader(f)]


def floats(text: str | None) -> tuple[float, ...]:
    """``"0.75,0.5"`` -> ``(0.75, 0.5)``; nothing given -> ``()``."""
    return tuple(float(x) for x in (text or "").split(",") if x)


def tradeoff(arms, runs, timing: dict, plot: Path, mean_sd, lost: float = 0.015) -> str:
    """Every arm in FP32 and INT8 (seed means) on one accuracy-vs-latency plot, and the fastest INT8 model that
    loses at most ``lost`` mAP50-95 against the dense FP32 model of equal epochs (the issue's INT8 goal)."""
    from yoloprune.reporting.plots import pareto_plot

    dense_map, dense_ms = mean_sd("dense")[0], timing["dense fp32"]
    points = [{"model": arm, "format": "openvino", "precision": p, "latency_ms_median": timing[f"{arm} {p}"],
               "map50_95": mean_sd(arm, key)[0]}
              for arm in arms for p, key in (("fp32", "map50_95"), ("int8", "int8_map50_95"))
              if f"{arm} {p}" in timing and any(r.get(key) is not None for r in runs if r["arm"] == arm)]
    pareto_plot(points, plot, reference=(dense_map - lost, f"dense FP32 - {100 * lost:g} points"))
    within = [q for q in points if q["precision"] == "int8" and dense_map - q["map50_95"] <= lost]
    if not within:
        return f"no INT8 model within {100 * lost:g} points of dense FP32 ({dense_map:.4f}); plot: {plot.name}"
    best = min(within, key=lambda q: q["latency_ms_median"])
    return (f"fastest INT8 model within {100 * lost:g} points of dense FP32: {best['model']}, "
            f"{dense_ms / best['latency_ms_median']:.2f}x dense FP32, {100 * (best['map50_95'] - dense_map):+.1f} points "
            f"(mAP50-95 {best['map50_95']:.4f} vs {dense_map:.4f}, seed means); plot: {plot.name}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--start", required=True, help="trained dense checkpoint (.pt)")
    ap.add_argument("--data", default="shapes")
    ap.add_argument("--amount", type=float, default=0.5, help="latency kept by the latency arm (0.5 = 2x)")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--seeds", default="0,1")
    ap.add_argument("--imgsz", type=int, default=320)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--fractions", default=None, help="profile grid, e.g. 0.5 (default: the profile's own)")
    ap.add_argument("--runs", type=int, default=60, help="interleaved timing rounds")
    ap.add_argument("--pretrain", type=int, default=0,
                    help="train --start this many more epochs (dense, seed 0, the same recipe) and prune from that")
    ap.add_argument("--set", action="append", default=[], help="fine-tune recipe override key=value")
    ap.add_argument("--int8-speedup", type=float, default=None,
                    help="add arm latency-int8: pruned on the INT8 table to this speed-up over dense FP32")
    ap.add_argument("--int8-fractions", default="0.25,0.5", help="the INT8 table's grid (each variant is quantised)")
    ap.add_argument("--sensitivity-drop", type=float, default=None,
                    help="add arm latency-sensitivity: target=latency within sensitivity limits (mAP drop, absolute)")
    ap.add_argument("--curve", default=None,
                    help="add arms latency-A: target=latency (the default global ranking, FP32 table) at these amounts, "
                         "e.g. 0.8,0.65: the speed / accuracy trade-off in FP32 and INT8")
    ap.add_argument("--round-to", type=int, default=None,
                    help="add arm latency-rN: the latency arm (knapsack, --amount, FP32 table, closed loop) with widths "
                         "multiples of N instead of 8, e.g. 16: does the CPU's channel blocking pay after quantisation?")
    ap.add_argument("--arms", default=None,
                    help="fine-tune, export and time only these arms, e.g. dense,latency-0.42 (default: all); every arm "
                         "is still pruned (or reused from arms.json) as the other options say")
    ap.add_argument("--distill", default=None, choices=[d for d in DISTILL if d != "none"],
                    help="add arm <arm>+kd for every pruned arm: fine-tuned distilling from --start in this mode")
    ap.add_argument("--distill-weight", type=float, default=1.0)
    ap.add_argument("--out", default="benchmarks/results/latency_accuracy_shapes")
    ap.add_argument("--tag", default=None,
                    help="name this run's outputs results_<tag>.json, table_<tag>.md, tradeoff_<tag>.png, so a second "
                         "run into the same --out (its pruned arms reused) keeps the first run's files")
    ap.add_argument("--reuse-arms", default=None, metavar="DIR",
                    help="when --out has no arms.json yet, start from DIR/arms.json (the pruned arms of an earlier "
                         "run): e.g. a longer fine-tune of some of its arms with --arms")
    args = ap.parse_args()
    suffix = f"_{args.tag}" if args.tag else ""  # the output files' names: results{suffix}.json, ...
    if args.reuse_arms and not (Path(args.out) / "arms.json").exists() \
            and not (Path(args.reuse_arms) / "arms.json").exists():  # before any profiling or training
        ap.error(f"--reuse-arms {args.reuse_arms}: no arms.json there (run that benchmark first)")

    from yoloprune import offline

    offline.configure()  # benchmarks run offline, like the demo
    from yoloprune.core.config import PruneConfig
    from yoloprune.data.registry import resolve_dataset
    from yoloprune.profiling.timing import machine_info
    from yoloprune.export.exporter import export_all
    from yoloprune.export.formats import FORMATS
    from yoloprune.export.parity import val_map
    from yoloprune.core.stats import model_stats
    from yoloprune.errors import ConfigError
    from yoloprune.profiling.profile import LatencyMeter, VariantTimer, cached_path, calibration_args, profile
    from yoloprune.profiling.timing import interleaved_medians
    from yoloprune.integrations.ultralytics.model_io import load_model
    from yoloprune.io import write_json_atomic
    from yoloprune.logs import third_party_logs_to
    from yoloprune.workflows.finetune import FinetuneConfig, finetune
    from yoloprune.workflows.oneshot import LatencyCheck, prune
    from yoloprune.workflows.sensitivity import SensitivityConfig, sensitivity

    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    start, data_yaml, t0 = Path(args.start).resolve(), resolve_dataset(args.data), time.time()
    recipe = finetune_recipe(args.data)
    for kv in args.set:
        k, _, v = kv.partition("=")
        recipe[k] = yaml.safe_load(v)
    fmt = "openvino:fp32"

    def train(ckpt, name: str, epochs: int, seed: int, **kd) -> Path:
        """``ckpt`` fine-tuned with the recipe into ``runs/finetune/<name>`` (kept if that run finished); its best.pt."""
        best_pt = out / "runs" / "finetune" / name / "weights" / "best.pt"
        if not finished(best_pt, epochs):  # resumable: finished runs kept
            finetune(ckpt, FinetuneConfig(epochs=epochs, **kd), data=args.data,
                     train_args={**recipe, "imgsz": args.imgsz, "seed": seed, "project": str(out / "runs" / "finetune"),
                                 "name": name, "exist_ok": True, "verbose": False})
        return best_pt

    pretrain = {}
    if args.pretrain:  # the dense model trained until it plateaus: every arm starts from it
        best = train(start, "dense-pretrain", args.pretrain, seed=0)
        pretrain = {"from": str(start), "epochs": args.pretrain, "map50_95_last5": epoch_maps(best)[-5:]}
        start = best
        print(f"pretrained start {start}: mAP50-95 of its last epochs {pretrain['map50_95_last5']}", flush=True)

    grid = {"fractions": floats(args.fractions)} if args.fractions else {}
    table = profile(start, format=fmt, imgsz=args.imgsz, threads=args.threads, project=out, name="profile",
                    exist_ok=True, **grid).report  # its exporters' log: profile/profile.log
    print(f"table: dense {table.dense_ms:.2f} ms, MAPE {table.validation.mape:.1%}", flush=True)
    record = out / "arms.json"  # the pruned arms of an earlier, interrupted run with this --out
    reused = Path(args.reuse_arms).resolve() / "arms.json" if args.reuse_arms else None  # or another run's
    source = record if record.exists() else reused
    done = json.loads(source.read_text()) if source is not None else {"arms": {"dense": str(start)}, "pruned": {}}
    settings = {"start": str(start), "amount": args.amount, "imgsz": args.imgsz, "fractions": args.fractions,
                "int8_speedup": args.int8_speedup, "int8_fractions": args.int8_fractions,
                "sensitivity_drop": args.sensitivity_drop}  # not --curve: its arms are named by amount
    clash = {k: (v, settings.get(k)) for k, v in done.get("settings", {}).items()
             if None not in (v, settings.get(k)) and v != settings.get(k)}  # (a key no longer recorded: no clash)
    if clash:
        raise SystemExit(f"{record} holds arms pruned with other settings ({clash}, recorded vs asked): give another "
                         "--out, or delete it to prune again")
    arms, pruned_info = {k: Path(v) for k, v in done["arms"].items()}, done["pruned"]

    def keep(arm, ckpt, info):
        if ckpt is not None:
            arms[arm] = Path(ckpt)
        pruned_info[arm] = info
        write_json_atomic({"settings": {**done.get("settings", {}), **{k: v for k, v in settings.items() if v is not None}},
                           "arms": {k: str(v) for k, v in arms.items()}, "pruned": pruned_info}, record)

    meter = LatencyMeter(start, fmt, args.imgsz, args.threads, args.runs)

    def latency_arm(arm, table_key, amount, check_fmt, **limits):
        """target=latency at ``amount`` of ``table_key``'s dense latency, closed loop measured with ``check_fmt``."""
        if arm in arms or arm in pruned_info:
            return
        try:
            res = prune(start, PruneConfig(target="latency", amount=amount, imgsz=args.imgsz,
                                           latency_table=str(cached_path(table_key)),
                                           **({"allocation": "knapsack"} | limits)),
                        data=args.data, project=out / "runs" / "prune", name=arm, exist_ok=True,
                        check=LatencyCheck(format=check_fmt, threads=args.threads, runs=args.runs))
        except ConfigError as e:  # e.g. sensitivity limits that leave too little to prune: recorded, not trained
            print(f"{arm}: {e}", flush=True)
            keep(arm, None, {"unreachable": str(e), **limits})
            return
        info = {"macs_kept": res.report.macs_kept, "params_kept": res.report.params_kept, "loop": res.latency, **limits}
        if check_fmt == fmt:
            info["measured"] = meter.compare(res.checkpoint)["ratio"]
        keep(arm, res.checkpoint, info)

    latency_arm("latency", table.key, args.amount, fmt)  # 1. the latency arm (knapsack), with the closed loop
    if "unreachable" in pruned_info["latency"]:
        raise SystemExit(pruned_info["latency"]["unreachable"])
    want = pruned_info["latency"]["measured"]
    print(f"latency arm: measured {want:.3f} of dense ({1 / want:.2f}x), MACs kept "
          f"{pruned_info['latency']['macs_kept']:.3f}", flush=True)
    chosen = [a for a in (args.arms or "").split(",") if a]
    if "macs" not in arms and (not chosen or "macs" in chosen):  # 2. the MACs arm at the same measured latency
        best, probes = matched_macs_arm(start, args.data, args.imgsz, want, pruned_info["latency"]["macs_kept"],
                                        meter, prune, PruneConfig, out)
        keep("macs", best["result"].checkpoint, {"measured": best["measured"], "amount": best["amount"],
                                                 "probes": probes, "macs_kept": best["result"].report.macs_kept,
                                                 "params_kept": best["result"].report.params_kept})

    sens_limits = {}
    if args.sensitivity_drop is not None:  # each group pruned alone, on the start; the arms stay within
        sens = sensitivity(start, SensitivityConfig(imgsz=args.imgsz), data=args.data, project=out / "runs",
                           name="sensitivity", exist_ok=True)
        sens_limits = {"allocation": "sensitivity", "sensitivity_table": str(sens.cached),
                       "sensitivity_drop": args.sensitivity_drop}
        latency_arm("latency-sensitivity", table.key, args.amount, fmt, **sens_limits)
    if args.int8_speedup:  # pruned for the deployed INT8 model
        int8 = profile(start, format="openvino:int8", imgsz=args.imgsz, threads=args.threads, data=args.data,
                       fractions=floats(args.int8_fractions), fit=40, validate=10,
                       project=out, name="profile_int8", exist_ok=True).report
        print(f"INT8 table: dense {int8.dense_ms:.2f} ms, MAPE {int8.validation.mape:.1%}", flush=True)
        if "int8" not in pruned_info:  # the dense FP32 / INT8 ratio, timed interleaved, sets the amount asked
            net = load_model(start)[0]
            with tempfile.TemporaryDirectory() as tmp, third_party_logs_to(out / "runs" / "export.log"):
                runners = []
                for p in ("fp32", "int8"):
                    (Path(tmp) / p).mkdir()
                    runners.append(VariantTimer(net, FORMATS["openvino"], p, args.imgsz, args.threads, Path(tmp) / p,
                                                deployed=True,
                                                calibration=calibration_args(FORMATS["openvino"], p, args.data)).runner())
                fp32_ms, int8_ms = interleaved_medians(runners, args.runs, 10)
            pruned_info["int8"] = {"dense_fp32_ms": fp32_ms, "dense_int8_ms": int8_ms, "speedup": args.int8_speedup,
                                   "amount": round(fp32_ms / args.int8_speedup / int8_ms, 4),  # at dense FP32 / S
                                   "table": {"cache": str(cached_path(int8.key)), "mape": int8.validation.mape,
                                             "dense_ms": int8.dense_ms}}
        q = pruned_info["int8"]
        print(f"dense FP32 {q['dense_fp32_ms']:.2f} ms, INT8 {q['dense_int8_ms']:.2f} ms: asking the INT8 table for "
              f"{q['amount']:.3f} of dense INT8 ({q['speedup']}x dense FP32)", flush=True)
        latency_arm("latency-int8", int8.key, q["amount"], "openvino:int8")
        if sens_limits:
            latency_arm("latency-int8-sensitivity", int8.key, q["amount"], "openvino:int8", **sens_limits)
    if args.round_to:
        latency_arm(f"latency-r{args.round_to}", table.key, args.amount, fmt, round_to=args.round_to)
    for a in floats(args.curve):  # the trade-off, as target=latency prunes
        latency_arm(f"latency-{a:g}", table.key, a, fmt, allocation="global")
    probes = pruned_info.get("macs", {}).get("probes")
    if chosen:  # e.g. a longer fine-tune of a few arms pruned by an earlier run (--reuse-arms: its arms.json)
        unreachable = {a: pruned_info[a]["unreachable"] for a in chosen if "unreachable" in pruned_info.get(a, {})}
        if unreachable:  # pruned to what was asked, it could not be: said, not blamed on the --arms list
            raise SystemExit("; ".join(f"{a} was not pruned: {why}" for a, why in unreachable.items()))
        if "dense" not in chosen or not set(chosen) <= set(arms):
            raise SystemExit(f"--arms {args.arms}: name dense and arms of this run ({', '.join(arms)})")
        arms = {a: arms[a] for a in chosen}
    if args.distill:  # each pruned arm again, distilled from the dense model it was pruned from
        arms |= {f"{a}+kd": ckpt for a, ckpt in arms.items() if a != "dense"}

    # 3. the same fine-tune for every arm and seed
    runs = []
    for seed in (int(s) for s in args.seeds.split(",")):
        for arm, ckpt in arms.items():
            kd = {"teacher": str(start), "distill": args.distill, "distill_weight": args.distill_weight} \
                if arm.endswith("+kd") else {}
            kd_run = f"-{args.distill}-w{args.distill_weight:g}" if kd else ""  # a rerun with another mode or
            name = f"{arm}{kd_run}-seed{seed}"  # weight in this --out trains again, never reuses
            best_pt = train(ckpt, name, args.epochs, seed, **kd)
            runs.append({"arm": arm, "seed": seed, "weights": str(best_pt),
                         "map50_95": val_map(best_pt, data_yaml, args.imgsz, batch=16)})
            print(f"{name}: mAP50-95 {runs[-1]['map50_95']:.4f}", flush=True)

    # 4. export seed-0 models FP32 + INT8 (every seed's INT8 for its mAP), then time them together
    exports = {}
    for r in runs:
        wanted = "openvino:fp32,openvino:int8" if r["seed"] == 0 else "openvino:int8"
        for e in export_all(r["weights"], wanted, data=args.data, imgsz=args.imgsz,
                            log_file=out / "runs" / "export.log"):
            if e.precision == "int8":
                r["int8_map50_95"] = e.map50_95
            if r["seed"] == 0:
                exports[(r["arm"], e.precision)] = e.file
            if not e.ok:
                print(f"  export {r['arm']} seed {r['seed']} {e.precision}: {e.error}", flush=True)
    labels = sorted(k for k, v in exports.items() if v)
    fns, ran = [], {}
    for arm, precision in labels:
        fn, ran[f"{arm} {precision}"] = FORMATS["openvino"].runner(Path(exports[(arm, precision)]), precision,
                                                                     args.imgsz, args.threads)
        fns.append(fn)
    ms = interleaved_medians(fns, args.runs, 10)
    timing = {f"{arm} {p}": m for (arm, p), m in zip(labels, ms)}
    dense_fp32 = timing["dense fp32"]

    def mean_sd(arm, key="map50_95"):
        vals = [r[key] for r in runs if r["arm"] == arm and r.get(key) is not None]
        return statistics.mean(vals), (statistics.stdev(vals) if len(vals) > 1 else 0.0), vals

    stats = {arm: model_stats(load_model(Path(ckpt))[0], args.imgsz) for arm, ckpt in arms.items()}
    result = {"settings": {**vars(args), "recipe": recipe, "start": str(start), "pretrain": pretrain},
              "machine": machine_info(),
              "table": {"dense_ms": table.dense_ms, "mape": table.validation.mape,
                        "cache": str(cached_path(table.key))},
              "pruned": pruned_info, "runs": runs, "timing_ms": timing, "precision_ran": ran,
              "minutes": round((time.time() - t0) / 60, 1)}
    (out / f"results{suffix}.json").write_text(json.dumps(result, indent=2, default=str))

    lines = [f"{args.data}, start {start.name} ({args.imgsz} px"
             + (f"; trained {args.pretrain} more epochs first, mAP50-95 of its last five "
                f"{' '.join(f'{v:.3f}' for v in pretrain['map50_95_last5'])}" if pretrain else "")
             + f"); every arm fine-tuned {args.epochs} epochs with the "
             f"same recipe, seeds {args.seeds}; latency: OpenVINO at {args.imgsz} px, batch 1, {args.threads} threads "
             f"on {result['machine']['cpu']} ({', '.join(result['machine']['cpu_flags']) or 'no bf16/AMX flags'}), "
             f"seed-0 models, medians of {args.runs} interleaved rounds, all in one run"
             + (f"; arms +kd: the same pruned checkpoint fine-tuned distilling from the start (distill={args.distill}, "
                f"weight {args.distill_weight:g})" if args.distill else "") + "\n",
             "| arm | MACs kept | params kept | FP32 ms | speed-up FP32 | mAP50-95 (mean ± sd) | per seed | "
             "INT8 ms | INT8 vs dense FP32 | INT8 mAP50-95 (mean) |", "|---|---:|---:|---:|---:|---:|---|---:|---:|---:|"]
    for arm in arms:
        m, sd, vals = mean_sd(arm)
        im, _, _ = mean_sd(arm, "int8_map50_95") if any(r.get("int8_map50_95") for r in runs if r["arm"] == arm) \
            else (float("nan"), 0, [])
        fp32, int8 = timing.get(f"{arm} fp32"), timing.get(f"{arm} int8")
        s = stats[arm]
        lines.append(f"| {arm} | {s.macs / stats['dense'].macs:.3f} | {s.params / stats['dense'].params:.3f} "
                     f"| {fp32:.2f} | {dense_fp32 / fp32:.2f}x | {m:.4f} ± {sd:.4f} | "
                     f"{' / '.join(f'{v:.4f}' for v in vals)} | {int8:.2f} | {dense_fp32 / int8:.2f}x | {im:.4f} |")
    loop = pruned_info["latency"]["loop"]
    lines += ["", f"precision that ran: {json.dumps(ran)}", *([f"MACs arm search: {json.dumps(probes)}"] if probes else []),
              *([f"latency arm closed loop: asked {loop['asked']}, predicted {loop['predicted']:.3f}, "
                 f"measured {loop['measured']:.3f}; table MAPE {table.validation.mape:.1%}"] if "latency" in arms else []),
              f"wall time {result['minutes']} min"]
    for arm in [a for a in pruned_info if a.startswith("latency-") and (a in arms or not chosen)]:
        if "unreachable" in pruned_info[arm]:
            lines.insert(-1, f"{arm}: not trained, {pruned_info[arm]['unreachable']}")
            continue
        q = pruned_info[arm]["loop"]
        lines.insert(-1, f"{arm} closed loop: asked {q['asked']}, predicted {q['predicted']:.3f}, measured "
                         f"{q['measured']:.3f} ({q['table']['precision']} table)")
        if arm.startswith("latency-int8") and f"{arm} int8" in timing:
            dense_map, q_map = mean_sd("dense")[0], mean_sd(arm, "int8_map50_95")[0]
            lines.insert(-1, f"goal (issue 16), {arm}: pruned + INT8 >= 3.5x dense FP32 with <= 1.5 points "
                             f"mAP50-95 lost: {dense_fp32 / timing[f'{arm} int8']:.2f}x, "
                             f"{100 * (q_map - dense_map):+.1f} points (INT8 mAP {q_map:.4f} vs dense FP32 "
                             f"{dense_map:.4f}, means over seeds {args.seeds})")
    lines.insert(-1, tradeoff(arms, runs, timing, out / f"tradeoff{suffix}.png", mean_sd))
    (out / f"table{suffix}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
