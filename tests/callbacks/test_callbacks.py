"""Callbacks in a real Ultralytics training run: every trainer-consistency trap from the field notes."""

import json

import pytest
import torch

from yoloprune.core.stats import conv_widths

IMGSZ = 64


class Probe:
    """Records the trainer's state at each epoch start, after the pruning callback ran."""

    def __init__(self):
        self.rows = []

    def on_train_epoch_start(self, trainer):
        from ultralytics.utils.torch_utils import unwrap_model

        model = unwrap_model(trainer.model)
        in_optimizer = {id(p) for g in trainer.optimizer.param_groups for p in g["params"]}
        trainable = {id(p) for p in model.parameters() if p.requires_grad}
        dfl = [p for n, p in model.named_parameters() if ".dfl" in n]
        self.rows.append({
            "epoch": trainer.epoch,
            "widths": conv_widths(model),
            "ema_widths": conv_widths(trainer.ema.ema),
            "optimizer_covers_model": trainable <= in_optimizer,
            "optimizer_stale": len(in_optimizer - {id(p) for p in model.parameters()}),
            "dfl_frozen": bool(dfl) and all(not p.requires_grad for p in dfl),
            "scheduler_ok": trainer.scheduler.optimizer is trainer.optimizer,
            "best_fitness": trainer.best_fitness,
            "initial_lrs": [g.get("initial_lr") for g in trainer.optimizer.param_groups],
            "nhwc": all(m.weight.is_contiguous(memory_format=torch.channels_last) for m in model.modules()
                        if isinstance(m, torch.nn.Conv2d) and m.kernel_size == (3, 3) and m.in_channels > 1),
        })

    def on_train_epoch_end(self, trainer):
        """The scheduler must still count epochs right after a mid-epoch prune step rebuilt it."""
        self.rows[-1]["scheduler_epoch"] = trainer.scheduler.last_epoch
        self.rows[-1]["lr_on_schedule"] = all(
            g["lr"] == pytest.approx(g["initial_lr"] * trainer.lf(trainer.epoch)) for g in trainer.optimizer.param_groups)


@pytest.fixture(scope="module")
def progressive_run(mini_data, tmp_path_factory):
    from ultralytics import YOLO

    from yoloprune.callbacks import add_pruning_callbacks, pruning_callbacks

    out = tmp_path_factory.mktemp("cb")
    model = YOLO("yolov8n.yaml")
    # steps at epochs 2, 2.5 (mid-epoch) and 3 (1-based); rewarm 0.25 epoch: back on the schedule by each epoch's end;
    # the default criterion (auto: taylor_raw on the trainer's batches)
    opts = dict(target="macs", amount=0.5, steps=3, start_epoch=1, end_epoch=2, imgsz=IMGSZ,
                sparsity="bn", distill="both", rewarm_epochs=0.25, schedule="linear")
    cb = add_pruning_callbacks(model, **opts)
    add_pruning_callbacks(model, **opts)  # helper: replaces, never doubles
    cb = next(f.__self__ for f in model.callbacks["on_train_epoch_start"] if hasattr(f, "__self__") and
              type(f.__self__).__name__ == "PruningCallbacks")
    for event, fn in pruning_callbacks(steps=3).items():  # a second, different set by hand: must stay inert
        model.add_callback(event, fn)
    for event, fn in cb.callbacks.items():  # the same set twice by hand: still one step per epoch
        model.add_callback(event, fn)
    from yoloprune.integrations.ultralytics.cpu_speed import add_cpu_training_speed

    add_cpu_training_speed(model)  # channels-last on the CPU must survive every prune step
    probe = Probe()
    model.add_callback("on_train_epoch_start", probe.on_train_epoch_start)
    model.add_callback("on_train_epoch_end", probe.on_train_epoch_end)
    model.train(data=str(mini_data), epochs=6, imgsz=IMGSZ, batch=8, workers=0, plots=False, project=str(out),
                name="run", exist_ok=True, amp=False, patience=1, warmup_epochs=1)  # patience=1 would stop early if allowed
    return model, cb, probe


def test_prune_steps_keep_the_runs_learning_rate(progressive_run):
    """Every rebuilt optimizer keeps the run's base rate (each group's ``initial_lr``, what the schedule multiplies):
    a step must not make the rate it happened to run at (mid warm-up, decayed, ramping) the run's new base. That
    compounded over the steps: a 2x run fine-tuned at a sixth of its rate, and one stepped during warm-up at a
    fifteenth."""
    _, cb, probe = progressive_run
    first = probe.rows[0]["initial_lrs"]
    assert first and None not in first and len(set(first)) == 1  # one base rate (lr0) for all groups
    assert [r["initial_lrs"] for r in probe.rows] == [first] * len(probe.rows)


def test_schedule_runs_exactly_once_per_step(progressive_run):
    _, cb, probe = progressive_run
    assert [h["at_epoch"] for h in cb.history] == [2, 2.5, 3] and cb.complete
    assert [h["epoch"] for h in cb.history] == [2, 2, 3]
    kept = [h["macs_kept"] for h in cb.history]
    assert kept == sorted(kept, reverse=True) and len(set(kept)) == 3 and abs(kept[-1] - 0.5) <= 0.015
    assert len(probe.rows) == 6  # early stopping (patience=1) did not end the run before the schedule


def test_final_architecture_is_the_plan_made_at_the_first_step(progressive_run):
    """Widths are planned once (a global allocation on the dense model) and every group walks to its plan."""
    from copy import deepcopy

    from yoloprune.core.prune import group_widths

    model, cb, _ = progressive_run
    plan = cb.plan
    assert plan.final.keys() == plan.dense.keys()
    assert any(plan.final[g] < plan.dense[g] for g in plan.final)
    assert len({plan.dense[g] - plan.final[g] for g in plan.final}) > 2  # global: groups differ
    now = group_widths(deepcopy(model.model), skip=cb.config.prune.skip)
    assert {g: now[g] for g in plan.final} == plan.final
    assert model.model.yoloprune["plan"] == plan.to_dict()  # travels in the checkpoint (resume)


def test_trainer_consistent_after_every_step(progressive_run):
    _, _, probe = progressive_run
    for row in probe.rows:
        assert row["widths"] == row["ema_widths"], row["epoch"]
        assert row["optimizer_covers_model"] and row["optimizer_stale"] == 0, row["epoch"]
        assert row["dfl_frozen"] and row["scheduler_ok"] and row["nhwc"], row["epoch"]
        assert row["scheduler_epoch"] == row["epoch"], row  # incl. after the mid-epoch step
        assert row["lr_on_schedule"] or row["epoch"] == 0, row  # warm-up (1 epoch) over; each re-warm ends in its epoch
    assert probe.rows[0]["widths"] != probe.rows[-1]["widths"]


def test_checkpoints_and_returned_model_are_pruned(progressive_run):
    from ultralytics import YOLO

    model, cb, probe = progressive_run
    final = probe.rows[-1]["widths"]
    best, last = model.trainer.best, model.trainer.last
    for ckpt in (best, last):
        reloaded = YOLO(str(ckpt))
        assert conv_widths(reloaded.model) == final
        assert reloaded.model.yoloprune["history"] == cb.history
    assert conv_widths(model.model) == final  # the model train() hands back
    # every step changes the widths, so best.pt having the final widths means it postdates the final step
    assert len({tuple(r["widths"].values()) for r in probe.rows}) == 1 + len({h["epoch"] for h in cb.history})
    saved = json.loads((model.trainer.save_dir / "prune_schedule.json").read_text())
    assert saved["complete"] and len(saved["history"]) == 3
    assert (model.trainer.save_dir / "weights" / "dense_teacher.pt").exists()


def test_best_fitness_blocked_until_final_step(progressive_run):
    _, cb, probe = progressive_run
    final_epoch0 = cb.history[-1]["epoch"] - 1
    for row in probe.rows:
        if 0 < row["epoch"] < final_epoch0:
            assert row["best_fitness"] == float("inf")


def test_resume_mid_schedule_matches_uninterrupted(mini_data, tmp_path):
    from ultralytics import YOLO

    from yoloprune.callbacks import add_pruning_callbacks

    opts = dict(target="macs", amount=0.5, steps=3, start_epoch=1, end_epoch=3, imgsz=IMGSZ, allocation="local", round_to=1, min_channels=1)
    train = dict(data=str(mini_data), epochs=5, imgsz=IMGSZ, batch=8, workers=0, plots=False, project=str(tmp_path),
                 exist_ok=True, amp=False)

    full = YOLO("yolov8n.yaml")
    add_pruning_callbacks(full, **opts)
    full.train(name="full", **train)

    class Interrupt(Exception):
        pass

    def stop_after_step_two(trainer):
        if trainer.epoch == 2:  # last.pt of epoch 3 is on disk, schedule has 2 of 3 steps
            raise Interrupt

    cut = YOLO("yolov8n.yaml")
    add_pruning_callbacks(cut, **opts)
    cut.add_callback("on_fit_epoch_end", stop_after_step_two)
    with pytest.raises(Interrupt):
        cut.train(name="cut", **train)
    last = tmp_path / "cut" / "weights" / "last.pt"
    assert len(torch.load(last, weights_only=False)["ema"].yoloprune["history"]) == 2

    from yoloprune import YOLO as PrunedYOLO
    from yoloprune.errors import YoloPruneError

    stock = YOLO(str(last))  # stock Ultralytics would rebuild the dense YAML: refused with the fix
    add_pruning_callbacks(stock, **opts)
    with pytest.raises(YoloPruneError, match="yoloprune.YOLO"):
        stock.train(resume=True)

    resumed = PrunedYOLO(str(last))
    cb = add_pruning_callbacks(resumed, **opts)
    resumed.train(resume=True)
    assert [h["step"] for h in cb.history] == [1, 2, 3]
    assert conv_widths(YOLO(str(resumed.trainer.last)).model) == conv_widths(YOLO(str(full.trainer.last)).model)
    results = (tmp_path / "cut" / "results.csv").read_text().splitlines()
    assert len(results) == 1 + 5  # epochs 1-3 before the interruption, 4-5 after resuming


def test_empty_steps_keep_the_trainer_consistent(mini_data, tmp_path):
    """oneshot with 3 steps: steps 2 and 3 remove nothing but still re-create the split blocks' tensors."""
    from ultralytics import YOLO

    from yoloprune.callbacks import add_pruning_callbacks

    model = YOLO("yolov8n.yaml")
    cb = add_pruning_callbacks(model, target="macs", amount=0.6, steps=3, schedule="oneshot", start_epoch=0,
                               end_epoch=1, imgsz=IMGSZ)
    probe = Probe()
    model.add_callback("on_train_epoch_start", probe.on_train_epoch_start)
    model.add_callback("on_train_end", probe.on_train_epoch_start)  # once more after the last epoch
    model.train(data=str(mini_data), epochs=2, imgsz=IMGSZ, batch=8, workers=0, plots=False, val=False,
                project=str(tmp_path), name="run", exist_ok=True, amp=False, warmup_epochs=0)
    assert [h["at_epoch"] for h in cb.history] == [1, 1.5, 2]
    assert cb.history[1]["params"] == cb.history[2]["params"] == cb.history[0]["params"]  # empty steps
    for row in probe.rows[1:]:
        assert row["optimizer_covers_model"] and row["optimizer_stale"] == 0, row
        assert row["widths"] == row["ema_widths"]


def test_restarted_schedule_gives_the_fine_tune_stage_the_whole_lr_schedule_and_survives_resume(mini_data, tmp_path):
    """finetune_lr=restart: after the last step (epoch 2 of 4) the rates start over at lr0 and decay to lr0*lrf."""
    from ultralytics import YOLO

    from yoloprune import YOLO as PrunedYOLO
    from yoloprune.callbacks import add_pruning_callbacks

    opts = dict(target="macs", amount=0.5, steps=1, schedule="oneshot", start_epoch=1, imgsz=IMGSZ,
                finetune_lr="restart", rewarm_epochs=0)
    train = dict(data=str(mini_data), epochs=4, imgsz=IMGSZ, batch=8, workers=0, plots=False, val=False, amp=False,
                 project=str(tmp_path), exist_ok=True, optimizer="SGD", lr0=0.01, lrf=0.1, warmup_epochs=0)
    seen = {}

    def record(run):
        def on_train_epoch_end(trainer):
            seen.setdefault(run, {})[trainer.epoch] = trainer.optimizer.param_groups[0]["lr"]
        return on_train_epoch_end

    def linear(x):  # Ultralytics' linear schedule, lf(0) = 1 .. lf(epochs) = lrf
        return max(1 - x / 4, 0) * 0.9 + 0.1

    full = YOLO("yolov8n.yaml")
    add_pruning_callbacks(full, **opts)
    full.add_callback("on_train_epoch_end", record("full"))
    full.train(name="full", **train)
    # epoch 0 is dense on the run's schedule; from the step (epoch 1) the 3 epochs left squeeze the whole schedule
    expected = [0.01 * linear(0)] + [0.01 * linear((e - 1) * 4 / 3) for e in (1, 2, 3)]
    assert [seen["full"][e] for e in range(4)] == pytest.approx(expected)
    assert seen["full"][1] == pytest.approx(0.01) and seen["full"][3] > 0.01 * linear(3)  # back at lr0, decays later

    class Interrupt(Exception):
        pass

    def stop_after_epoch_three(trainer):
        if trainer.epoch == 2:
            raise Interrupt

    cut = YOLO("yolov8n.yaml")
    add_pruning_callbacks(cut, **opts)
    cut.add_callback("on_fit_epoch_end", stop_after_epoch_three)
    with pytest.raises(Interrupt):
        cut.train(name="cut", **train)
    resumed = PrunedYOLO(str(tmp_path / "cut" / "weights" / "last.pt"))
    add_pruning_callbacks(resumed, **opts)
    resumed.add_callback("on_train_epoch_end", record("resumed"))
    resumed.train(resume=True)
    assert seen["resumed"] == {3: pytest.approx(seen["full"][3])}


def test_learning_rate_rewarms_after_a_prune_step():
    from types import SimpleNamespace

    from yoloprune.callbacks.pruning import PruningCallbacks

    cb = PruningCallbacks(rewarm_epochs=0.5)
    opt = torch.optim.AdamW([{"params": [torch.nn.Parameter(torch.zeros(2))], "lr": 0.01},
                             {"params": [torch.nn.Parameter(torch.zeros(2))], "lr": 0.02}])
    trainer = SimpleNamespace(optimizer=opt, epoch=3, train_loader=range(8), callbacks={})
    cb.rewarm.start(batches_per_epoch=8)  # what a prune step does: ramp over 4 batches
    seen = []
    for _ in range(6):
        cb.on_train_batch_start(trainer)
        seen.append([g["lr"] for g in opt.param_groups])
    assert seen[:4] == [[pytest.approx(0.01 * k / 4), pytest.approx(0.02 * k / 4)] for k in (1, 2, 3, 4)]
    assert seen[4] == seen[5] == [0.01, 0.02]  # back on the schedule, then left alone
    off = PruningCallbacks(rewarm_epochs=0)
    off.rewarm.start(8)
    off.on_train_batch_start(SimpleNamespace(optimizer=opt, epoch=3, train_loader=range(8), callbacks={}))
    assert [g["lr"] for g in opt.param_groups] == [0.01, 0.02]
    # with Ultralytics' scheduler the ramp targets this epoch's scheduled rate, not what a previous ramp left
    for g in opt.param_groups:
        g["initial_lr"], g["lr"] = g["lr"], 1e-9
    sched = PruningCallbacks(rewarm_epochs=0.25)
    sched.rewarm.start(8)
    trainer = SimpleNamespace(optimizer=opt, epoch=3, train_loader=range(8), callbacks={}, lf=lambda e: 1 - e / 10)
    for _ in range(2):
        sched.on_train_batch_start(trainer)
    assert [g["lr"] for g in opt.param_groups] == [pytest.approx(0.007), pytest.approx(0.014)]


GUARD_CHECK = """
import os, signal, time
from yoloprune.callbacks.interrupt import InterruptGuard

def interrupted(fn):
    try:
        fn()
    except KeyboardInterrupt:
        return True
    return False

guard = InterruptGuard()
signal.signal(signal.SIGINT, signal.default_int_handler)
guard.start()  # end of an epoch's training: validation and the checkpoint write follow
os.kill(os.getpid(), signal.SIGINT)
time.sleep(0.05)
assert guard.pending  # held, not raised
assert interrupted(guard.finish)  # checkpoint written: now it goes through
assert signal.getsignal(signal.SIGINT) is signal.default_int_handler and not guard.active
guard.start()
os.kill(os.getpid(), signal.SIGINT)
time.sleep(0.05)
assert interrupted(lambda: (os.kill(os.getpid(), signal.SIGINT), time.sleep(0.05)))  # a second Ctrl-C aborts at once
guard.pending = False
guard.finish()
signal.signal(signal.SIGINT, signal.SIG_IGN)  # a process told to ignore Ctrl-C keeps ignoring it
guard.start()
assert not guard.active and signal.getsignal(signal.SIGINT) == signal.SIG_IGN
print("ok")
"""


def test_interrupt_guard_holds_ctrl_c_until_the_checkpoint_is_written():
    """In a fresh process: real SIGINTs, and no native library state left by other tests (after OpenVINO
    compiled models in the test process, a SIGINT there crashed the interpreter)."""
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-c", GUARD_CHECK], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout.strip().endswith("ok"), proc.stderr[-2000:]


def test_a_trained_checkpoint_is_pruned_early_by_default(mini_data, dense_ckpt, tmp_path):
    """With the automatic epochs a run from a trained .pt prunes in its first 20 % (no dense epochs first), leaving
    the rest at the final width; the same schedule from a YAML would wait until 30 % of the run."""
    from yoloprune import YOLO
    from yoloprune.callbacks import add_pruning_callbacks

    model = YOLO(str(dense_ckpt))
    cb = add_pruning_callbacks(model, target="macs", amount=0.5, steps=2, imgsz=IMGSZ, criterion="l2")
    model.train(data=str(mini_data), epochs=5, imgsz=IMGSZ, batch=8, workers=0, plots=False, project=str(tmp_path),
                name="run", exist_ok=True, amp=False, warmup_epochs=0, val=False)
    assert [h["at_epoch"] for h in cb.history] == [1, 2]  # epochs 0 and int(0.2 * 5) = 1, 1-based
    assert cb.step_times(5) == [1, 3]  # from scratch
