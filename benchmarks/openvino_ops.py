"""Issue 16 diagnostic: where an OpenVINO model's time goes on this CPU, from the CPU plugin's own performance
counters, per op type and per conv layer; e.g. why INT8 leaves a pruned model less to gain than the dense one.

    .venv/bin/python benchmarks/openvino_ops.py dense=<ir dir or .xml>:fp32 dense-int8=<...>:int8 \\
        pruned-int8=<...>:int8 [--runs 60] [--threads 2] --out benchmarks/results/openvino_ops

Every model is compiled with the precision hint asked for and read back (FP32 and INT8 compute in f32 where
not quantised, as everywhere in yoloprune), run ``--runs`` times after a warm-up, models interleaved round by
round (shuffled); per run the counters of every executed node are summed. Reported per model (medians over the
runs): the wall-clock time of ``infer`` (what a user times), the counters' total (time inside the graph's nodes;
the rest is the call, input copy and scheduling), each op type's time, and each model's conv layers (with their
output channels) against the first model given in its precision: a pruned layer may be faster, unchanged, or
slower than its dense self.
"""

from __future__ import annotations

import argparse
import collections
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

CONV = re.compile(r"__module\.(model\.[\w.]+?)\.conv/aten::_convolution/Convolution$")


def parse(spec: str) -> tuple[str, Path, str]:
    label, _, rest = spec.partition("=")
    path, _, precision = rest.rpartition(":")
    if not (label and path and precision):
        raise SystemExit(f"{spec!r}: give label=<IR folder or .xml>:<precision>, e.g. dense=best_openvino_model:fp32")
    return label, Path(path), precision


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("models", nargs="+", help="label=<IR folder or .xml>:<fp32|int8|bf16|fp16>")
    ap.add_argument("--runs", type=int, default=60)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default="benchmarks/results/openvino_ops")
    args = ap.parse_args()

    import numpy as np
    import openvino as ov

    from yoloprune.profiling.timing import machine_info
    from yoloprune.export.openvino_precision import compile_ir, ir_file
    from yoloprune.profiling.timing import interleaved_times
    from yoloprune.io import write_json_atomic, write_text_atomic

    warmup, models = 5, []
    for label, path, precision in map(parse, args.models):
        xml = ir_file(path)
        compiled, ran = compile_ir(xml, precision, args.threads, {"PERF_COUNT": "YES"})
        channels = {m.group(1): op.get_output_partial_shape(0)[1].get_length()  # each conv's output channels
                    for op in ov.Core().read_model(xml).get_ops() if op.get_type_name() == "Convolution"
                    for m in [CONV.search(op.get_friendly_name())] if m}
        shape = [d.get_length() for d in compiled.inputs[0].get_partial_shape()]
        models.append({"label": label, "path": str(path), "precision": precision, "computes_in": ran,
                       "request": compiled.create_infer_request(), "channels": channels,
                       "x": np.random.default_rng(0).random(shape, dtype=np.float32), "runs": []})

    def run(m):
        """One inference, timed around ``infer`` alone, then its counters: {op type: ms}, {conv layer: ms}."""
        t = time.perf_counter()
        m["request"].infer({0: m["x"]})
        wall, types, convs = (time.perf_counter() - t) * 1e3, collections.Counter(), collections.Counter()
        for p in m["request"].get_profiling_info():
            if p.status.name == "EXECUTED":
                ms = p.real_time.total_seconds() * 1e3
                types[f"{p.node_type} ({p.exec_type})"] += ms
                conv = CONV.search(p.node_name) if p.node_type == "Convolution" else None
                if conv:
                    convs[conv.group(1)] += ms
        m["runs"].append((wall, types, convs))

    # interleaved, the order shuffled each round (as every timing in yoloprune); warm-up calls dropped
    interleaved_times([lambda m=m: run(m) for m in models], args.runs, warmup)

    def median(values):
        return float(statistics.median(values))

    rows = []
    for m in models:
        timed = m["runs"][warmup:]
        types = {k: median([t.get(k, 0.0) for _, t, _ in timed]) for k in timed[0][1]}
        rows.append({"label": m["label"], "path": m["path"], "precision": m["precision"], "computes_in": m["computes_in"],
                     "wall_ms": median([w for w, _, _ in timed]), "nodes_ms": median([sum(t.values()) for _, t, _ in timed]),
                     "conv_ms": median([sum(v for k, v in t.items() if k.startswith("Convolution")) for _, t, _ in timed]),
                     "types": dict(sorted(types.items(), key=lambda kv: -kv[1])),
                     "convs": {k: median([c.get(k, 0.0) for _, _, c in timed]) for k in timed[0][2]},
                     "channels": m["channels"]})
    out = Path(args.out)
    machine = machine_info()
    write_json_atomic({"settings": vars(args), "machine": machine, "models": rows}, out / "ops.json")
    lines = [f"OpenVINO performance counters, batch 1, {args.threads} threads, medians of {args.runs} interleaved rounds "
             f"(shuffled), on {machine['cpu']} ({', '.join(machine['cpu_flags'])})\n",
             "| model | computes in | wall ms (median) | in nodes ms | convolutions ms | other nodes ms | top other op types |",
             "|---|---|---:|---:|---:|---:|---|"]
    for r in rows:
        other = [(k, v) for k, v in r["types"].items() if not k.startswith("Convolution")][:4]
        lines.append(f"| {r['label']} | {r['precision']} weights, {r['computes_in']} compute | {r['wall_ms']:.2f} | "
                     f"{r['nodes_ms']:.2f} | {r['conv_ms']:.2f} | {r['nodes_ms'] - r['conv_ms']:.2f} | "
                     + ", ".join(f"{k} {v:.2f}" for k, v in other) + " |")
    for r in rows:  # each model's conv layers against the first model given in the same precision
        first = next(f for f in rows if f["precision"] == r["precision"])
        if first is r:
            continue
        slower = sorted((r["convs"][n] / first["convs"][n], n) for n in r["convs"] if first["convs"].get(n))
        lines += ["", f"conv layers, {r['label']} vs {first['label']}: {sum(s > 1.05 for s, _ in slower)} slower, "
                      f"{sum(0.95 <= s <= 1.05 for s, _ in slower)} within 5 %, {sum(s < 0.95 for s, _ in slower)} faster; "
                      "slowest relative to it: " + ", ".join(
                          f"{n} {s:.2f}x ({r['channels'].get(n)} vs {first['channels'].get(n)} channels out)"
                          for s, n in slower[::-1][:5])]
    write_text_atomic("\n".join(lines) + "\n", out / "table.md")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
