"""Progressive pruning during a normal Ultralytics training run (at epoch starts, or mid-epoch).

``PruningCallbacks(config).callbacks`` is an Ultralytics-style ``{event: fn}`` dict. The object is
plain data plus bound methods, so it survives Ultralytics' DDP re-spawn (cloudpickle) and checkpoints
(its state also travels as ``model.yoloprune`` inside every checkpoint the trainer writes).
"""

from __future__ import annotations

import json
import time
from copy import deepcopy
from itertools import islice
from pathlib import Path

import torch

from ultralytics.utils import LOGGER, RANK  # noqa: E402
from ultralytics.utils.torch_utils import unwrap_model  # noqa: E402

from ..config import PruneConfig  # noqa: E402
from ..distributed import broadcast_plan  # noqa: E402
from ..engine import conv_widths, model_stats, plan_pruning, prune_  # noqa: E402
from ..errors import ConfigError  # noqa: E402
from ..graph import output_layers  # noqa: E402
from ..importance import CRITERIA  # noqa: E402
from ..schedule import SCHEDULES, prune_epochs, width_at  # noqa: E402
from .distill import attach_distillation, log_distillation  # noqa: E402
from .interrupt import InterruptGuard  # noqa: E402
from .sparsity import apply_sparsity  # noqa: E402
from .trainer_state import rebuild_after_prune, reset_best_tracking, restart_lr_schedule  # noqa: E402

OWNER_ATTR = "_yoloprune_owner"  # set on the trainer by the one callbacks object that drives it


class PruningCallbacks:
    """Prunes ``trainer.model`` on a schedule and keeps the trainer consistent after every step."""

    def __init__(self, config: PruneConfig | None = None, **options):
        # criterion=auto is taylor_raw here: the trainer's own batches are always at hand
        self.config = (config or PruneConfig(**options)).validate().resolved(has_data=True)
        self.history: list[dict] = []  # one entry per completed prune step
        self.dense: dict | None = None  # {"params", "macs"} of the model when the run started
        self.epochs: list[float] = []  # when each step runs, in epochs (0-based; fractions fall mid-epoch)
        self.plan: dict | None = None  # {"dense": widths, "final": widths} per prunable group, fixed at step 1
        self._batch = 0  # batches seen in the current epoch
        self.teacher = None
        self._last_update = -1
        self.token = id(self)
        self.guard = InterruptGuard()  # Ctrl-C waits until the epoch's checkpoint is written
        self._rewarm: dict | None = None  # learning-rate ramp after the latest prune step

    # ----------------------------------------------------------------- registration
    @property
    def callbacks(self) -> dict:
        return {
            "on_pretrain_routine_start": self.on_pretrain_routine_start,
            "on_pretrain_routine_end": self.on_pretrain_routine_end,
            "on_train_epoch_start": self.on_train_epoch_start,
            "on_train_batch_start": self.on_train_batch_start,
            "on_train_batch_end": self.on_train_batch_end,
            "on_train_epoch_end": self.on_train_epoch_end,
            "on_model_save": self.on_model_save,
            "on_fit_epoch_end": self.on_fit_epoch_end,
            "on_train_end": self.on_train_end,
        }

    def _mine(self, trainer) -> bool:
        """Claim the trainer for the first callbacks object that sees it; others stay silent (no double pruning)."""
        owner = getattr(trainer, OWNER_ATTR, None)
        if owner is None:
            setattr(trainer, OWNER_ATTR, self.token)
            _drop_repeats(trainer, self.callbacks)
            return True
        return owner == self.token

    @property
    def complete(self) -> bool:
        return len(self.history) >= self.config.steps

    # ----------------------------------------------------------------- events
    def on_pretrain_routine_start(self, trainer) -> None:
        """Refuse, with the fix, a run that would silently train the dense YAML instead of a pruned checkpoint."""
        if not self._mine(trainer):
            LOGGER.warning("yoloprune: a second set of pruning callbacks is registered on this trainer; ignoring it")
            return
        from ..checkpoint import load_model  # noqa: PLC0415
        from ..errors import YoloPruneError  # noqa: PLC0415
        from ..trainer import PrunedDetectionTrainer, is_pruned  # noqa: PLC0415

        source = trainer.args.resume if trainer.resume else trainer.args.model
        if isinstance(trainer, PrunedDetectionTrainer) or not str(source).endswith(".pt") or not Path(str(source)).is_file():
            return
        if is_pruned(load_model(source)[0]):
            raise YoloPruneError(
                f"{source} is pruned, and Ultralytics' stock trainer would rebuild the dense model from its YAML: "
                "use yoloprune.YOLO(...) instead of ultralytics.YOLO, or pass trainer=yoloprune.PrunedDetectionTrainer"
            )

    def on_pretrain_routine_end(self, trainer) -> None:
        if not self._mine(trainer):
            return
        model = unwrap_model(trainer.model)
        state = getattr(model, "yoloprune", None) or {}
        if "history" in state and not self.history:  # resumed (or continued) run: pick the schedule up where it was
            self.history, self.dense, self.plan = list(state["history"]), state.get("dense"), state.get("plan")
            LOGGER.info(f"yoloprune: continuing the schedule after {len(self.history)} completed steps")
        if self.dense is None:
            stats = model_stats(model, self.config.imgsz)
            self.dense = {"params": stats.params, "macs": stats.macs, "channels": _channels(model),
                          "widths": conv_widths(model)}
        self.epochs = self.plan_epochs(trainer.epochs)
        if self.config.distill != "none" and self.history:  # resumed after the teacher was saved at step 1
            self.teacher = self._load_teacher(trainer, model)
            if self.complete:
                attach_distillation(model, self.teacher, self.config.distill, self.config.distill_weight)
        if self.complete and self.config.finetune_lr == "restart":  # the resumed scheduler is the run's own again
            restart_lr_schedule(trainer, self.history[-1]["at_epoch"] - 1)
        if not self.complete:
            reset_best_tracking(trainer, schedule_complete=False)
        LOGGER.info(f"yoloprune: {self.config.steps} prune steps ({self.config.schedule}) at epochs "
                    f"{_positions(self.epochs)} to {self.config.target}={self.config.amount}")

    def on_train_epoch_start(self, trainer) -> None:
        if not self._mine(trainer):
            return
        self._batch = 0
        self._run_due_steps(trainer, float(trainer.epoch), mid_epoch=False)

    def _run_due_steps(self, trainer, position: float, mid_epoch: bool) -> None:
        """Every step whose time has come: normally one; several if a resume skipped some."""
        if self.complete:
            return
        due = [e for e in self.epochs if e <= position + 1e-9]
        while len(self.history) < len(due):
            self.step(trainer, position, mid_epoch)

    def start_rewarm(self, batches_per_epoch: int) -> None:
        iters = round(self.config.rewarm_epochs * batches_per_epoch)
        self._rewarm = {"iters": iters, "done": 0} if iters > 0 else None

    def on_train_batch_start(self, trainer) -> None:
        """Run a step that falls mid-epoch, then ramp the learning rate back up after the latest step."""
        if not self._mine(trainer):
            return
        batches = max(len(trainer.train_loader), 1)
        self._run_due_steps(trainer, trainer.epoch + self._batch / batches, mid_epoch=self._batch > 0)
        self._batch += 1
        ramp = self._rewarm
        if ramp is None or self._in_warmup(trainer, batches):
            return  # Ultralytics' warm-up sets the rates itself; the ramp continues after it
        ramp["done"] += 1
        factor = min(ramp["done"] / ramp["iters"], 1.0)
        for g, base in zip(trainer.optimizer.param_groups, self._scheduled_lrs(trainer, ramp)):
            g["lr"] = base * factor
        if factor >= 1.0:
            self._rewarm = None

    def _in_warmup(self, trainer, batches: int) -> bool:
        warmup = getattr(trainer, "_get_warmup_iterations", None)
        iters = warmup(batches) if warmup is not None else 0
        return iters > 0 and (self._batch - 1) + batches * trainer.epoch <= iters

    @staticmethod
    def _scheduled_lrs(trainer, ramp: dict) -> list[float]:
        """This epoch's scheduled rates (not whatever an earlier ramp left in the optimizer)."""
        lf, groups = getattr(trainer, "lf", None), trainer.optimizer.param_groups
        if lf is not None and all("initial_lr" in g for g in groups):
            return [g["initial_lr"] * lf(trainer.epoch) for g in groups]
        if ramp.get("base") is None:  # no Ultralytics scheduler: ramp towards the rates found at the first batch
            ramp["base"] = [g["lr"] for g in groups]
        return ramp["base"]

    def on_train_batch_end(self, trainer) -> None:
        if not self._mine(trainer) or self.config.sparsity == "none" or self.complete:
            return
        updates = trainer.ema.updates if trainer.ema is not None else None
        if updates is not None and updates == self._last_update:
            return  # once per optimizer step (batches accumulate; a duplicate registration changes nothing)
        self._last_update = updates
        model = unwrap_model(trainer.model)
        lr = trainer.optimizer.param_groups[0]["lr"]
        apply_sparsity(model, self.config.sparsity, self.config.sparsity_weight, lr,
                       skip={id(m) for m in output_layers(model)})

    def on_train_epoch_end(self, trainer) -> None:
        if self._mine(trainer):
            self.guard.start()  # validation + checkpoint write follow

    def on_model_save(self, trainer) -> None:
        if self._mine(trainer):
            self.guard.finish()

    def on_fit_epoch_end(self, trainer) -> None:
        if not self._mine(trainer):
            return
        self.guard.finish()  # epochs that saved nothing
        if not self.complete and trainer.epoch + 1 < trainer.epochs:
            trainer.stop = False  # early stopping may not end the run before the schedule is done
        log_distillation(trainer)

    def on_train_end(self, trainer) -> None:
        if self._mine(trainer) and RANK in {-1, 0}:
            self._write_history(trainer)

    # ----------------------------------------------------------------- the work
    def plan_epochs(self, total_epochs: int) -> list[float]:
        """When the prune steps run (epochs from the start, 0-based), for a run of ``total_epochs``."""
        cfg = self.config
        start = cfg.start_epoch if cfg.start_epoch >= 0 else int(0.3 * total_epochs)
        end = cfg.end_epoch if cfg.end_epoch >= 0 else max(start, int(0.6 * total_epochs))
        if end >= total_epochs:
            raise ConfigError(f"end_epoch={end} is not inside the run's {total_epochs} epochs: lower it or train longer")
        return prune_epochs(start, end, cfg.steps)

    def make_plan(self, model, batches, tolerance: float | None = None) -> dict:
        """The final width of every prunable group, chosen once on the model as it is at the first step.

        Later steps walk each group from its dense width to this one (``schedule.width_at``); only
        *which* channels go is re-scored at every step. Re-planning the global allocation at every step
        instead compounds: each ranking sees the previous cuts and keeps thinning the same layers.
        """
        cfg = PruneConfig(**{**self.config.to_dict(), "tolerance": tolerance or self.config.tolerance})
        return broadcast_plan(plan_pruning(model, cfg, batches=batches))

    def step(self, trainer, position: float | None = None, mid_epoch: bool = False) -> dict:
        """One prune step on the live model, then rebuild optimizer / scheduler / EMA / DDP and log."""
        cfg, k = self.config, len(self.history) + 1
        model = unwrap_model(trainer.model)
        t0 = time.perf_counter()
        if cfg.distill != "none" and self.teacher is None:  # the dense model as trained so far teaches
            self.teacher = self._load_teacher(trainer, model)
        criterion = model.criterion if hasattr(model, "criterion") else None
        batches = self._batches(trainer) if CRITERIA[cfg.criterion].needs_gradients else None
        if self.plan is None:
            try:
                self.plan = self.make_plan(model, batches)
            except ConfigError as e:  # a long run should not die over granularity: take the closest reachable
                LOGGER.warning(f"yoloprune: {e}; using the closest reachable width instead")
                self.plan = self.make_plan(model, batches, tolerance=0.49)
        schedule = SCHEDULES[cfg.schedule]
        widths = {name: width_at(k, cfg.steps, dense, self.plan["final"][name], schedule, cfg.round_to)
                  for name, dense in self.plan["dense"].items()}
        report = prune_(model, cfg, batches=batches, sync=broadcast_plan, widths=widths)
        model.criterion = criterion  # keep the loss (YOLO26's end-to-end weighting has its own schedule)
        # always: even an empty step (coarse round_to, AGP's flat tail) re-created the split blocks' tensors
        rebuild_after_prune(trainer, trainer.epoch + 1 if mid_epoch else trainer.epoch)
        if report.pruned.params != report.dense.params:
            self.start_rewarm(len(trainer.train_loader))
        position = float(trainer.epoch) if position is None else position
        entry = {"step": k, "epoch": trainer.epoch + 1, "at_epoch": round(position + 1, 3),
                 "params": report.pruned.params, "macs": report.pruned.macs,
                 "macs_kept": report.pruned.macs / self.dense["macs"],
                 "params_kept": report.pruned.params / self.dense["params"],
                 "channels": _channels(model), "seconds": time.perf_counter() - t0}
        self.history.append(entry)
        if self.complete:
            reset_best_tracking(trainer, schedule_complete=True)
            if cfg.finetune_lr == "restart":
                restart_lr_schedule(trainer, position)
            if self.teacher is not None:
                attach_distillation(model, self.teacher, cfg.distill, cfg.distill_weight)
        self._stamp(trainer)
        LOGGER.info(f"yoloprune: step {k}/{cfg.steps} at epoch {entry['at_epoch']:g}: MACs {report.pruned.macs:.3f}G "
                    f"({entry['macs_kept']:.1%} of dense), params {report.pruned.params:,} "
                    f"({entry['params_kept']:.1%}), {entry['channels']} channels, {entry['seconds']:.1f}s")
        if RANK in {-1, 0}:
            self._write_history(trainer)
        return entry

    def _batches(self, trainer):
        """A few of the trainer's own batches, preprocessed like its training loop does."""
        return [trainer.preprocess_batch(b) for b in islice(trainer.train_loader, self.config.taylor_batches)]

    def _load_teacher(self, trainer, model):
        """The frozen dense model (as it is at the first prune step), saved beside the run for resumes."""
        path = Path(trainer.save_dir) / "weights" / "dense_teacher.pt"
        if path.exists():
            teacher = torch.load(path, map_location="cpu", weights_only=False)
        else:
            teacher = deepcopy(model).float().eval()
            teacher.criterion = None
            if RANK in {-1, 0}:
                from ..checkpoint import atomic_save  # noqa: PLC0415

                atomic_save(teacher, path)
        for p in teacher.parameters():
            p.requires_grad_(False)
        return teacher

    def state(self) -> dict:
        return {"config": self.config.to_dict(), "dense": self.dense, "history": self.history,
                "epochs": _positions(self.epochs), "plan": self.plan, "complete": self.complete}

    def _stamp(self, trainer) -> None:
        """Record the schedule state on the model and its EMA, so every checkpoint carries it."""
        state = self.state()
        unwrap_model(trainer.model).yoloprune = state
        if trainer.ema is not None:
            trainer.ema.ema.yoloprune = state

    def _write_history(self, trainer) -> None:
        from ..atomic import write_json_atomic  # noqa: PLC0415

        write_json_atomic(self.state(), Path(trainer.save_dir) / "prune_schedule.json")


def _drop_repeats(trainer, ours: dict) -> None:
    """Keep one registration of each of our callbacks: the same set added twice by hand must not run twice.

    Per-batch work (the batch counter that places mid-epoch steps, the LR ramp) is not idempotent, so
    the trainer's own callback lists are de-duplicated in place (an event being run keeps iterating).
    """
    for event, fn in ours.items():
        registered = trainer.callbacks.get(event, [])
        first = next((i for i, f in enumerate(registered) if f == fn), None)
        if first is not None:
            registered[:] = [f for i, f in enumerate(registered) if i <= first or f != fn]


def _positions(epochs: list[float]) -> list:
    """Step times as 1-based epochs for people: whole epochs as ints (1 = the start of epoch 1)."""
    return [int(e) + 1 if float(e).is_integer() else round(e + 1, 2) for e in epochs]


def _channels(model) -> int:
    return sum(m.out_channels for m in model.modules() if isinstance(m, torch.nn.Conv2d))
