"""Peers side by side: yoloprune's defaults, Torch-Pruning's own YOLOv8 recipe, NVIDIA ModelOpt's FastNAS and NNCF's
filter pruning on the same real model, matched on measured latency, with the same fine-tune.

    .venv/bin/pip install -c constraints.txt -e ".[peers]"      # ModelOpt (benchmark-only)
    .venv/bin/python benchmarks/peers.py --data aquarium        # resumable; --stages to run some

The start, the recipe, the epochs and the seeds are those of ``benchmarks/real_models.py`` (``--from``, its results
folder, default ``benchmarks/results/real_models/<data>``): the pretrained YOLOv8s transfer-trained on the dataset.
yoloprune's rows are that benchmark's ``oneshot-A`` and ``progressive-A`` runs (its defaults, the same seeds).

Stages:
search    every peer's knob (a channel rate, a FLOPs share) moved until its pruned model's measured OpenVINO FP32
          latency is within ``--within`` of ``A`` x dense (at most ``--tries`` cuts, each exported and timed
          interleaved with dense, as yoloprune's closed loop measures); the model at that knob saved with its MACs,
          params, mAP right after the cut and the time of a cut from scratch. A peer that cannot cut the model keeps
          its row with the exact error. yoloprune's own cut is timed here too (``target=latency``, one-shot).
arms      each peer's model fine-tuned ``--epochs`` epochs per seed, its recipe's way: Torch-Pruning prunes in
          ``--tp-steps`` steps with ``epochs / steps`` epochs after each; the others are cut once, then fine-tuned
speed     dense, yoloprune's and every peer's seed-0 model exported to OpenVINO FP32 and timed interleaved in one run
portable  whether each seed-0 model reloads in stock Ultralytics (a fresh process, yoloprune and the benchmark's
          modules not importable) and exports to ONNX, OpenVINO and CoreML
report    ``results.json``, ``table.md`` and ``tradeoff.png`` (every arm on one latency-vs-mAP plot)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from real_models import RECIPE, State, split_map  # noqa: E402

STAGES = ("search", "arms", "speed", "portable", "report")


@dataclass(frozen=True)
class Peer:
    """One peer: how to cut the start model at a knob, which way the knob moves latency, how it fine-tunes."""

    name: str
    doc: str
    knob: str  # what the search moves
    lo: float  # the knob's range: lo keeps the most, hi the least
    hi: float
    module: str | None  # the benchmark module holding its cut (None: it cannot run, see why_not)
    iterative: bool = False  # prunes in steps with fine-tuning between (Torch-Pruning's recipe)
    why_not: str | None = None  # a peer with no structured pruning to run


PEERS = {
    "tp": Peer("tp", "Torch-Pruning's examples/yolov8 recipe: group L2 magnitude, every layer the same share (local), "
               "Detect ignored, C2f split into two convs, iterative steps with fine-tuning between",
               "target_prune_rate (share of every layer's channels)", 0.05, 0.9, "peers_tp", iterative=True),
    "fastnas": Peer("fastnas", "NVIDIA ModelOpt FastNAS: a sensitivity map scored by val mAP, then a search for a FLOPs "
                    "budget", "FLOPs kept (%)", 95.0, 10.0, "peers_fastnas"),
    "nncf": Peer("nncf", "NNCF's filter pruning for PyTorch", "", 0.0, 0.0, None,
                 why_not="the pinned NNCF has no structured (filter) pruning: NNCF deprecated it in 2.19 and removed "
                 "it in 3.0.0 (its PyTorch pruning algorithms, openvinotoolkit/nncf PR #3773); its 3.x pruning is "
                 "unstructured magnitude sparsity, which no dense runtime speeds up"),
}


def nncf_has_filter_pruning() -> bool:
    """Whether the installed NNCF offers filter pruning for PyTorch (its old ``nncf.torch.pruning`` package)."""
    import importlib.util

    return importlib.util.find_spec("nncf.torch.pruning") is not None


def peer_version(peer: Peer) -> str:
    from importlib.metadata import PackageNotFoundError, version

    dist = {"tp": "torch-pruning", "fastnas": "nvidia-modelopt", "nncf": "nncf"}[peer.name]
    try:
        return f"{dist} {version(dist)}"
    except PackageNotFoundError:
        return f"{dist} not installed"


class Peers:
    def __init__(self, args):
        from real_models import Bench

        self.args = args
        source = argparse.Namespace(data=args.data, out=args.source, start_model=None, imgsz=args.imgsz,
                                    threads=args.threads, runs=args.runs)
        self.real = Bench(source)  # the start, the dataset, the recipe's runs of yoloprune
        if "start" not in self.real.state.data:
            raise SystemExit(f"peers: {args.source} has no trained start: run benchmarks/real_models.py --data "
                             f"{args.data} --stages start first")
        self.out = Path(args.out).resolve()
        self.state = State(self.out / "state.json")
        self.state.data.setdefault("search", {})
        self.runs = self.out / "runs"
        self.start_pt, self.data_yaml = self.real.start_pt, self.real.data_yaml
        self._meter = None

    # -- measuring ---------------------------------------------------------------------------------------------
    def meter(self):
        from yoloprune.profiling.profile import LatencyMeter

        if self._meter is None:
            self._meter = LatencyMeter(self.start_pt, "openvino:fp32", self.args.imgsz, self.args.threads,
                                       self.args.runs)
        return self._meter

    def start_model(self):
        return self.load(self.start_pt).eval()

    def size(self, net) -> tuple[float, int]:
        """(MACs in G, parameters) at the benchmark's image size: the product's own count."""
        from yoloprune.core.stats import model_stats

        stats = model_stats(net, self.args.imgsz)
        return stats.macs, stats.params

    def save(self, net, path: Path, meta: dict) -> Path:
        from yoloprune.integrations.ultralytics.model_io import save_pruned

        # the yoloprune entry marks it pruned: the fine-tune keeps its widths (PrunedDetectionTrainer)
        return save_pruned(net, path, source=self.start_pt, meta={"peer": meta},
                           train_args={"imgsz": self.args.imgsz, "data": str(self.data_yaml)})

    def cut(self, peer: Peer, knob: float, work: Path):
        import importlib

        mod = importlib.import_module(peer.module)
        if peer.name == "tp":
            return mod.cut(self.start_model(), knob, self.args.tp_steps, self.args.imgsz), {}
        from peers_fastnas import subset_yaml

        score_yaml = subset_yaml(self.data_yaml, self.args.score_images, work)
        return mod.cut(self.start_model(), knob, self.args.imgsz, self.data_yaml, score_yaml, work)

    # -- search ------------------------------------------------------------------------------------------------
    def search_stage(self) -> None:
        for amount in self.args.amounts:
            self.time_yoloprune(amount)
        for name in self.args.peers:
            peer = PEERS[name]
            for amount in self.args.amounts:
                self.search(peer, amount)

    def time_yoloprune(self, amount: float) -> None:
        """yoloprune's one-shot ``target=latency`` cut timed from scratch, in two parts: the latency profile of this
        machine (once, into a cache of its own, not the user-wide one) and the prune with its closed loop."""
        from dataclasses import replace

        from yoloprune.core.config import PruneConfig
        from yoloprune.profiling.profile import profile
        from yoloprune.workflows.oneshot import prune

        search, check = self.state.data["search"], self.real.check()
        if "yoloprune-profile" not in search:
            t0 = time.time()
            table = profile(self.start_pt, hardware=check.hardware, format=check.format, imgsz=self.args.imgsz,
                            cache_dir=self.runs / "latency-cache").cached
            search["yoloprune-profile"] = {"seconds": round(time.time() - t0, 1), "table": str(table)}
            self.state.save()
        key = f"yoloprune-{amount:g}"
        if key in search:
            return
        config = PruneConfig(target="latency", amount=amount, imgsz=self.args.imgsz,
                             latency_table=search["yoloprune-profile"]["table"])
        t0 = time.time()
        try:
            res = prune(self.start_pt, config, data=str(self.data_yaml), project=self.runs / "prune", name=key,
                        exist_ok=True, check=check)
        except Exception as e:  # e.g. a budget this model cannot reach: the row says so
            search[key] = {"error": f"{type(e).__name__}: {e}"}
        else:
            search[key] = {"seconds": round(time.time() - t0, 1), "measured": (res.latency or {}).get("measured")}
        self.state.save()

    def search(self, peer: Peer, amount: float) -> None:
        key = f"{peer.name}-{amount:g}"
        rec = self.state.data["search"].get(key)
        if rec and (rec.get("checkpoint") or rec.get("error") or rec.get("why_not")):
            return
        rec = {"peer": peer.name, "amount": amount, "version": peer_version(peer), "knob": peer.knob, "tries": []}
        if peer.why_not or (peer.name == "nncf" and not nncf_has_filter_pruning()):
            rec["why_not"] = peer.why_not
        else:
            self.bisect(peer, amount, rec, self.runs / "search" / key)
        self.state.data["search"][key] = rec
        self.state.save()

    def bisect(self, peer: Peer, amount: float, rec: dict, work: Path) -> None:
        """Move the knob between ``lo`` (keeps the most) and ``hi`` until the measured latency kept is within
        ``--within`` of ``amount``; the last cut tried is kept when the tries run out (its miss recorded)."""
        lo, hi, best = peer.lo, peer.hi, None
        for _ in range(self.args.tries):
            knob = (lo + hi) / 2
            t0 = time.time()
            try:
                net, info = self.cut(peer, knob, work)
            except Exception as e:  # a peer that cannot cut this model: its row keeps the exact error
                where = " <- ".join(f"{Path(f.filename).name}:{f.lineno}"
                                    for f in reversed(traceback.extract_tb(e.__traceback__)[-2:]))
                rec["error"] = f"{type(e).__name__}: {e} (at {where}, {peer_version(peer)})"
                return
            seconds = time.time() - t0
            ratio = self.meter().compare(net)["ratio"]
            rec["tries"].append({"knob": round(knob, 4), "measured": round(ratio, 4), "seconds": round(seconds, 1),
                                 **info})
            print(f"{peer.name} {amount:g}: {peer.knob} {knob:.4f} -> latency kept {ratio:.3f}", flush=True)
            if best is None or abs(ratio - amount) < abs(best[1] - amount):
                best = (knob, ratio, net)
            if abs(ratio - amount) <= self.args.within * amount:
                break
            if ratio > amount:  # too slow: cut more
                lo = knob
            else:
                hi = knob
        knob, ratio, net = best
        macs, params = self.size(net)
        dense_macs, dense_params = self.size(self.start_model())
        ckpt = self.save(net, work / "pruned.pt", {"name": peer.name, "knob": knob})
        rec.update(chosen=round(knob, 4), measured=round(ratio, 4), within=abs(ratio - amount) <= self.args.within *
                   amount, macs_kept=round(macs / dense_macs, 4), params_kept=round(params / dense_params, 4),
                   checkpoint=str(ckpt), seconds=rec["tries"][0]["seconds"],
                   zero_shot_val=split_map(ckpt, self.data_yaml, self.args.imgsz, "val"))

    # -- arms --------------------------------------------------------------------------------------------------
    def arms_stage(self) -> None:
        for seed in self.args.seeds:
            for name in self.args.peers:
                for amount in self.args.amounts:
                    rec = self.state.data["search"].get(f"{name}-{amount:g}", {})
                    if rec.get("checkpoint"):
                        self.train(PEERS[name], amount, rec, seed)

    def train(self, peer: Peer, amount: float, found: dict, seed: int) -> dict:
        from yoloprune.workflows.finetune import FinetuneConfig, finetune

        name = f"{peer.name}-{amount:g}-e{self.args.epochs}-seed{seed}"
        runs = self.state.data.setdefault("runs", {})
        if name in runs:
            return runs[name]
        recipe = {**RECIPE, "imgsz": self.args.imgsz, "seed": seed}
        t0, project = time.time(), self.runs / "train" / name
        if peer.iterative:  # Torch-Pruning's recipe: a step, its epochs; the next step on that run's best
            import peers_tp

            steps, per = self.args.tp_steps, self.args.epochs // self.args.tp_steps
            ckpt = self.start_pt
            for i in range(steps):
                step_run = project / f"step{i}"
                best = step_run / "weights" / "best.pt"
                if not best.exists():
                    net = self.load(ckpt)
                    peers_tp.replace_c2f(net)
                    peers_tp.prune_step(net, peers_tp.step_ratio(found["chosen"], steps), self.args.imgsz)
                    pruned = self.save(net, project / f"step{i}-pruned.pt", {"name": peer.name, "step": i})
                    finetune(pruned, FinetuneConfig(epochs=per), data=str(self.data_yaml), train_args=recipe,
                             project=str(project), name=f"step{i}", exist_ok=True)
                ckpt = best
        else:
            best = project / "weights" / "best.pt"
            if not best.exists():
                finetune(found["checkpoint"], FinetuneConfig(epochs=self.args.epochs), data=str(self.data_yaml),
                         train_args=recipe, project=str(project.parent), name=name, exist_ok=True)
        rec = {"peer": peer.name, "amount": amount, "seed": seed, "epochs": self.args.epochs, "weights": str(best),
               "val": split_map(best, self.data_yaml, self.args.imgsz, "val"),
               "test": split_map(best, self.data_yaml, self.args.imgsz, "test"),
               "minutes": round((time.time() - t0) / 60, 1)}
        runs[name] = rec
        self.state.save()
        return rec

    def load(self, ckpt):
        from yoloprune.integrations.ultralytics.model_io import load_model

        return load_model(ckpt)[0]

    # -- the seed-0 models of every arm ------------------------------------------------------------------------
    def finals(self) -> dict[str, str]:
        """Every arm's seed-0 fine-tuned weights: dense and yoloprune's (the real-model runs), each peer's."""
        real = self.real.state.data["runs"]
        out = {}
        if f"dense-e{self.args.epochs}-seed0" in real:
            out["dense"] = real[f"dense-e{self.args.epochs}-seed0"]["weights"]
        for kind in ("oneshot", "progressive"):
            for a in self.args.amounts:
                rec = real.get(f"{kind}-{a:g}-e{self.args.epochs}-seed0")
                if rec:
                    out[f"yoloprune {kind}-{a:g}"] = rec["weights"]
        for name, rec in self.state.data.get("runs", {}).items():
            if rec["seed"] == 0:
                out[f"{rec['peer']}-{rec['amount']:g}"] = rec["weights"]
        return out

    def speed_stage(self) -> None:
        from yoloprune.export.formats import FORMATS
        from yoloprune.profiling.timing import interleaved_medians

        finals = self.finals()
        if "dense" not in finals:
            raise SystemExit("speed: the real-model benchmark's seed-0 dense run is not trained yet")
        timed = self.state.data.get("timing", {})
        if timed.get("weights") == sorted(finals.values()) and timed.get("runs") == self.args.runs:
            return
        from yoloprune.export.exporter import export_all

        fns, ran, labels = [], {}, []
        for label, weights in finals.items():
            (e,) = export_all(weights, "openvino:fp32", imgsz=self.args.imgsz, log_file=self.runs / "export.log")
            if not e.ok:
                raise SystemExit(f"speed: export of {label} failed: {e.error or e.skipped}")
            fn, ran[label] = FORMATS["openvino"].runner(Path(e.file), e.precision, self.args.imgsz,
                                                       self.args.threads)
            fns.append(fn)
            labels.append(label)
        ms = interleaved_medians(fns, self.args.runs, 10)
        self.state.data["timing"] = {"runs": self.args.runs, "threads": self.args.threads,
                                     "weights": sorted(finals.values()),
                                     "models": {lb: {"ms": m, "precision_ran": ran[lb], "weights": finals[lb]}
                                                for lb, m in zip(labels, ms)}}
        self.state.save()

    def portable_stage(self) -> None:
        from yoloprune.export.exporter import export_all

        port = self.state.data.setdefault("portable", {})
        for label, weights in self.finals().items():
            if label in port:
                continue
            probe = ("import sys, numpy as np; from ultralytics import YOLO; "
                     f"YOLO(sys.argv[1]).predict(np.zeros(({self.args.imgsz}, {self.args.imgsz}, 3), np.uint8), "
                     "verbose=False)")
            env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
            stock = subprocess.run([sys.executable, "-I", "-c", probe, weights], capture_output=True, text=True,
                                   cwd="/", env=env)
            # -I and cwd /: the benchmark's modules (a peer's classes) are not importable, as on a user's machine
            last = (stock.stderr.strip().splitlines() or [""])[-1]
            exports = {}
            for e in export_all(weights, "onnx,openvino:fp32,coreml:fp16", imgsz=self.args.imgsz,
                                log_file=self.runs / "export.log"):
                exports[f"{e.format}:{e.precision}" if e.format != "onnx" else "onnx"] = (
                    "yes" if e.ok else f"no: {(e.error or e.skipped or '')[:160]}")
            port[label] = {"stock_reload": "yes" if stock.returncode == 0 else f"no: {last[:200]}",
                           "exports": exports}
            self.state.save()


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True, help="a dataset of benchmarks/real_data.py, e.g. aquarium")
    ap.add_argument("--source", default=None, help="the real-model benchmark's results folder (its start, its "
                    "yoloprune runs); default benchmarks/results/real_models/<data>")
    ap.add_argument("--out", default=None, help="default benchmarks/results/peers/<data>")
    ap.add_argument("--peers", default=",".join(PEERS), help=f"of {', '.join(PEERS)}")
    ap.add_argument("--amounts", default="0.5,0.67", help="latency kept (0.5 = 2x, 0.67 = 1.5x)")
    ap.add_argument("--seeds", default="0,1")
    ap.add_argument("--epochs", type=int, default=10, help="fine-tune epochs of every arm (the real-model runs')")
    ap.add_argument("--tp-steps", type=int, default=5, help="Torch-Pruning's prune steps (epochs / steps after each)")
    ap.add_argument("--within", type=float, default=0.03, help="measured latency within this share of the budget")
    ap.add_argument("--tries", type=int, default=8, help="cuts tried per peer and budget")
    ap.add_argument("--score-images", type=int, default=32, help="val images of FastNAS' score")
    ap.add_argument("--imgsz", type=int, default=320)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=60, help="interleaved timing rounds")
    ap.add_argument("--stages", default=",".join(STAGES))
    args = ap.parse_args(argv)
    args.source = args.source or str(HERE / "results" / "real_models" / args.data)
    args.out = args.out or str(HERE / "results" / "peers" / args.data)
    args.amounts = [float(a) for a in args.amounts.split(",") if a]
    args.seeds = [int(s) for s in args.seeds.split(",") if s]
    args.peers = [p for p in args.peers.split(",") if p]
    bad = [p for p in args.peers if p not in PEERS] + [s for s in args.stages.split(",") if s and s not in STAGES]
    if bad:
        ap.error(f"unknown {bad[0]!r}: peers {', '.join(PEERS)}; stages {', '.join(STAGES)}")
    if args.epochs % args.tp_steps:
        ap.error(f"--epochs {args.epochs} is not a multiple of --tp-steps {args.tp_steps}")

    from yoloprune import offline

    offline.configure()  # benchmarks run offline, like the demo
    import peers_report

    bench = Peers(args)
    bench.state.data["settings"] = {k: v for k, v in vars(args).items() if k != "stages"}
    for stage in [s for s in args.stages.split(",") if s]:
        print(f"== {stage}", flush=True)
        t0 = time.time()
        if stage == "report":
            peers_report.write(bench)
        else:
            getattr(bench, f"{stage}_stage")()
        minutes = bench.state.data.setdefault("minutes", {})
        minutes[stage] = round(minutes.get(stage, 0) + (time.time() - t0) / 60, 1)
        bench.state.save()
    print(json.dumps(bench.state.data.get("minutes", {})), flush=True)


if __name__ == "__main__":
    main()
