"""benchmarks/peers.py and its peers: Torch-Pruning's C2f rewrite computes what C2f computes and its recipe cuts every
layer by the same share, the search keeps a peer's exact error when it cannot cut the model, NNCF's row says why it
has none, and the report marks what has not run."""

import json
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import peers
import peers_tp


@pytest.fixture(scope="module")
def yolov8n():
    from ultralytics.nn.tasks import DetectionModel

    return DetectionModel("yolov8n.yaml", nc=3, verbose=False).eval()


def test_the_two_conv_c2f_computes_what_c2f_computes(yolov8n):
    from copy import deepcopy

    from ultralytics.nn.modules import C2f

    net = deepcopy(yolov8n)
    assert peers_tp.replace_c2f(net) == sum(type(m) is C2f for m in yolov8n.modules()) > 0
    assert not any(type(m) is C2f for m in net.modules())
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        assert torch.allclose(yolov8n(x)[0], net(x)[0], atol=1e-5)


def test_the_recipe_cuts_every_layer_by_its_share_and_keeps_the_head(yolov8n):
    assert (1 - peers_tp.step_ratio(0.5, 5)) ** 5 == pytest.approx(0.5)
    net = peers_tp.cut(yolov8n, 0.5, 2, 64)
    widths = lambda m: {k: v.shape[0] for k, v in m.state_dict().items() if k.endswith("conv.weight")}  # noqa: E731
    dense, cut = widths(yolov8n), widths(net)
    backbone = [k for k in cut if k.startswith("model.") and int(k.split(".")[1]) < 10 and k in dense]
    assert backbone and all(cut[k] < dense[k] for k in backbone)  # every backbone conv lost channels
    head = [k for k in dense if k.startswith("model.22.")]  # Detect ignored: its convs keep their outputs
    assert head and all(cut[k] == dense[k] for k in head)
    with torch.no_grad():
        assert net(torch.randn(1, 3, 64, 64))[0].shape == yolov8n(torch.randn(1, 3, 64, 64))[0].shape


def test_a_peer_that_cannot_cut_the_model_keeps_its_exact_error():
    def fails(peer, knob, work):
        raise TypeError("'Node' object is not iterable")

    bench = SimpleNamespace(cut=fails, args=SimpleNamespace(tries=3, within=0.03))
    rec = {"tries": []}
    peers.Peers.bisect(bench, peers.PEERS["fastnas"], 0.5, rec, Path("unused"))
    assert rec["error"].startswith("TypeError: 'Node' object is not iterable (at test_peers.py:")
    assert "nvidia-modelopt" in rec["error"] and rec["tries"] == []


def test_the_search_stops_within_the_budget_and_keeps_the_closest_cut(tmp_path, monkeypatch):
    """The knob moves toward the budget (more cut when too slow) and stops once within 3 %."""
    latency = lambda knob: 1 - 0.8 * knob  # noqa: E731  (a peer whose latency falls with its knob)
    meter = SimpleNamespace(compare=lambda net: {"ratio": latency(net)})
    bench = SimpleNamespace(cut=lambda peer, knob, work: (knob, {}), meter=lambda: meter,
                            args=SimpleNamespace(tries=8, within=0.03, imgsz=64), size=lambda net: (1.0 - net, 1.0),
                            start_model=lambda: 0.0, save=lambda net, path, meta: path,
                            data_yaml=None)
    rec = {"tries": []}
    peer = peers.Peer("t", "a test", "knob", 0.0, 1.0, "none")
    monkeypatch.setattr(peers, "split_map", lambda *a, **k: 0.25)  # the saved model's mAP right after the cut
    peers.Peers.bisect(bench, peer, 0.5, rec, tmp_path)
    assert abs(rec["measured"] - 0.5) <= 0.03 * 0.5 and rec["within"]
    assert [t["knob"] for t in rec["tries"]] == [0.5, 0.75, 0.625] and rec["chosen"] == 0.625
    assert rec["zero_shot_val"] == 0.25 and rec["macs_kept"] == pytest.approx(0.375)


def test_the_pinned_nncf_has_no_filter_pruning_and_its_row_says_why():
    assert not peers.nncf_has_filter_pruning()  # if a release brings it back, this benchmark should run it
    assert "3.0.0" in peers.PEERS["nncf"].why_not


def test_the_report_of_a_partial_run_marks_what_is_missing(tmp_path):
    import peers_report
    import real_models

    args = SimpleNamespace(data="aquarium", source=str(tmp_path / "real"), imgsz=320, threads=2, runs=60, epochs=10,
                           seeds=[0, 1], amounts=[0.5], peers=["tp", "nncf"], within=0.03)
    real = real_models.State(tmp_path / "real" / "state.json")
    real.data["runs"] = {f"dense-{s}": {"arm": "dense", "epochs": 10, "seed": s, "val": 0.4, "test": 0.42}
                         for s in (0, 1)}
    state = real_models.State(tmp_path / "state.json")
    state.data["search"] = {"nncf-0.5": {"why_not": peers.PEERS["nncf"].why_not, "version": "nncf 3.4.0"},
                            "tp-0.5": {"tries": [{"knob": 0.4, "measured": 0.51}], "chosen": 0.4, "measured": 0.51,
                                       "within": True, "macs_kept": 0.45, "params_kept": 0.4, "zero_shot_val": 0.01,
                                       "seconds": 3.0, "version": "torch-pruning 1.6.1"}}
    state.data["runs"] = {"tp-0.5-e10-seed0": {"peer": "tp", "amount": 0.5, "seed": 0, "val": 0.3, "test": 0.31}}
    bench = SimpleNamespace(args=args, state=state, out=tmp_path / "out", real=SimpleNamespace(state=real))
    peers_report.write(bench)
    table = (tmp_path / "out" / "table.md").read_text()
    assert "| yoloprune oneshot-0.5 | 0.5 |  |  |  |  |  | not run |" in table
    assert "0.3000 ± 0.0000 (1) | -10.0 |" in table  # tp: one seed so far, against dense's two
    assert "removed it in 3.0.0" in table and "1 cuts tried" in table
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert [r.get("key") for r in results["rows"]][-2:] == ["tp-0.5", "nncf-0.5"]
