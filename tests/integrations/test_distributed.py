"""Every DDP rank applies the same pruning plan: a real 2-process gloo group on CPU."""

import copy
import json
import socket
import sys

import pytest
import torch
import torch.multiprocessing as mp


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(rank: int, world: int, port: int, out: str, sync: bool) -> None:
    import torch.distributed as dist

    sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent))
    from models import build
    from yoloprune import PruneConfig
    from yoloprune.core.distributed import from_rank0 as broadcast_plan
    from yoloprune.callbacks.pruning import PruningCallbacks
    from yoloprune.core.prune import plan_pruning, prune_

    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
    try:
        torch.manual_seed(0)  # identical weights on every rank, as DDP guarantees
        model = build("yolo11n.yaml")
        # a different seed per rank: without agreement the ranks would prune different channels
        cfg = PruneConfig(criterion="random", target="macs", amount=0.5, imgsz=64, seed=rank)
        # the progressive callbacks' width plan (made once, at their first step) is rank 0's on every rank
        plan_cfg = PruneConfig(criterion="random", target="macs", amount=0.4, imgsz=64, seed=rank)
        if sync:
            plan = PruningCallbacks(plan_cfg).make_plan(copy.deepcopy(model), batches=None).final
        else:
            plan = plan_pruning(copy.deepcopy(model), plan_cfg).final
        prune_(model, cfg, sync=broadcast_plan if sync else None)
        widths = [m.out_channels for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
        checksum = float(sum(p.double().sum() for p in model.parameters()))
        with open(f"{out}.{rank}", "w") as f:
            json.dump({"widths": widths, "checksum": checksum, "plan": plan}, f)
    finally:
        dist.destroy_process_group()


@pytest.mark.parametrize("sync", [True, False])
def test_ranks_agree_on_the_plan(sync, tmp_path):
    out = str(tmp_path / "rank")
    mp.spawn(_worker, args=(2, _free_port(), out, sync), nprocs=2, join=True)
    r0, r1 = (json.loads(open(f"{out}.{r}").read()) for r in (0, 1))
    if sync:
        assert r0 == r1  # same architecture and the same surviving weights on both ranks
    else:
        assert r0["checksum"] != r1["checksum"]  # the control: unsynchronised ranks diverge
        assert r0["plan"] != r1["plan"]


def test_ddp_state_survives_cloudpickle_in_a_fresh_process(pruned_run, tmp_path):
    """Ultralytics' DDP launcher cloudpickles trainer class, model and callbacks; a worker unpickles them."""
    import subprocess

    import cloudpickle
    from ultralytics import YOLO

    from yoloprune import PrunedDetectionTrainer
    from yoloprune.callbacks.pruning import PruningCallbacks

    cb = PruningCallbacks(target="macs", amount=0.4, steps=2, imgsz=64)
    cb.history = [{"step": 1}]
    model = YOLO(str(pruned_run.checkpoint)).model
    state = {"trainer": PrunedDetectionTrainer, "model": model,
             "callbacks": {e: [f] for e, f in cb.callbacks.items()}}
    path = tmp_path / "ddp_state.pt"
    torch.save(state, path, pickle_module=cloudpickle)
    code = (
        "import torch, json\n"
        f"s = torch.load({str(path)!r}, weights_only=False)\n"
        "cb = s['callbacks']['on_train_epoch_start'][0].__self__\n"
        "widths = [m.out_channels for m in s['model'].modules() if isinstance(m, torch.nn.Conv2d)]\n"
        "print(json.dumps({'trainer': s['trainer'].__name__, 'history': cb.history, 'amount': cb.config.prune.amount,\n"
        "                  'same': all(f.__self__ is cb for fs in s['callbacks'].values() for f in fs), 'widths': widths}))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got["trainer"] == "PrunedDetectionTrainer" and got["history"] == [{"step": 1}] and got["amount"] == 0.4
    assert got["same"]  # one callbacks object behind every event, as before pickling
    assert got["widths"] == [m.out_channels for m in model.modules() if isinstance(m, torch.nn.Conv2d)]


def _rewrap_worker(rank: int, world: int, port: int, out: str) -> None:
    from types import SimpleNamespace

    import torch.distributed as dist

    sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent))
    from models import build
    from yoloprune import PruneConfig
    from yoloprune.integrations.ultralytics.surgery import rewrap_ddp
    from yoloprune.core.distributed import from_rank0 as broadcast_plan
    from yoloprune.core.prune import prune_

    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
    try:
        torch.manual_seed(0)
        module = build("yolov8n.yaml")
        ddp = torch.nn.parallel.DistributedDataParallel(module, find_unused_parameters=True, broadcast_buffers=False)
        trainer = SimpleNamespace(model=ddp, device=torch.device("cpu"), args=SimpleNamespace(compile=False))
        prune_(module, PruneConfig(target="macs", amount=0.5, imgsz=64), sync=broadcast_plan)
        rewrap_ddp(trainer, module)  # what a prune step does: DDP's buckets must cover the new tensors
        torch.manual_seed(100 + rank)  # each rank sees a different batch
        module.train()
        out_ = trainer.model(torch.rand(2, 3, 64, 64))
        sum(o.float().pow(2).mean() for o in (out_["feats"] if isinstance(out_, dict) else out_)).backward()
        grad = module.model[0].conv.weight.grad
        with open(f"{out}.{rank}", "w") as f:
            json.dump({"grad": float(grad.double().sum()), "wrapped": isinstance(trainer.model,
                       torch.nn.parallel.DistributedDataParallel), "width": module.model[0].conv.out_channels}, f)
    finally:
        dist.destroy_process_group()


def test_rewrapped_ddp_averages_the_pruned_tensors(tmp_path):
    out = str(tmp_path / "rank")
    mp.spawn(_rewrap_worker, args=(2, _free_port(), out), nprocs=2, join=True)
    r0, r1 = (json.loads(open(f"{out}.{r}").read()) for r in (0, 1))
    assert r0["wrapped"] and r0["width"] == r1["width"] < 16  # the stem was pruned, identically
    assert r0["grad"] == pytest.approx(r1["grad"], rel=1e-6) and r0["grad"] != 0  # all-reduced across ranks
