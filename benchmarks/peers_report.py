"""The report of ``peers.py``: ``results.json``, ``table.md`` and ``tradeoff.png`` from whatever has finished (a cell
not yet measured reads "not run")."""

from __future__ import annotations

import json
from pathlib import Path

from real_models_report import Runs, delta, fmt, markdown, mean_sd


def _peer_rows(bench) -> list[dict]:
    """One record per (arm, latency budget): yoloprune's from the real-model runs, each peer's from its own."""
    from peers import PEERS

    args, st = bench.args, bench.state.data
    real = Runs(bench.real.state.data["runs"])
    timing = st.get("timing", {}).get("models", {})
    dense_ms = timing.get("dense", {}).get("ms")
    port = st.get("portable", {})
    rows = []
    for amount in args.amounts:
        own = st["search"].get(f"yoloprune-{amount:g}", {})
        profile_seconds = st["search"].get("yoloprune-profile", {}).get("seconds")
        for kind in ("oneshot", "progressive"):
            arm = f"{kind}-{amount:g}"
            label = f"yoloprune {arm}"
            pruned = bench.real.state.data["pruned"].get(arm, {}) if kind == "oneshot" else {}
            ms = timing.get(label, {}).get("ms")
            rows.append({
                "arm": label, "amount": amount, "version": "yoloprune (this repository)",
                "measured": ms / dense_ms if ms and dense_ms else (pruned.get("loop") or {}).get("measured"),
                "macs_kept": pruned.get("macs_kept"), "params_kept": pruned.get("params_kept"),
                "zero_shot_val": pruned.get("zero_shot_val"),
                "val": real.stat(arm, args.epochs, "val", args.seeds), "test": real.stat(arm, args.epochs, "test",
                                                                                       args.seeds),
                "seeds": [r["seed"] for r in real.of(arm, args.epochs) if r["seed"] in args.seeds],
                "seconds": own.get("seconds") if kind == "oneshot" else None,
                "profile_seconds": profile_seconds if kind == "oneshot" else None, "portable": port.get(label),
                "note": own.get("error", "") if kind == "oneshot" else ""})
        for name in args.peers:
            found = st["search"].get(f"{name}-{amount:g}", {})
            runs = [r for r in st.get("runs", {}).values() if r["peer"] == name and r["amount"] == amount]
            label = f"{name}-{amount:g}"
            ms = timing.get(label, {}).get("ms")
            note = found.get("why_not") or found.get("error") or ""
            if found.get("tries"):
                note = note or (f"{len(found['tries'])} cuts tried, {PEERS[name].knob} {found['chosen']}"
                                + ("" if found.get("within") else f" (not within {args.within:.0%} of the budget)"))
            rows.append({
                "arm": label, "key": label, "amount": amount, "version": found.get("version"),
                "measured": ms / dense_ms if ms and dense_ms else found.get("measured"),
                "macs_kept": found.get("macs_kept"), "params_kept": found.get("params_kept"),
                "zero_shot_val": found.get("zero_shot_val"),
                "val": mean_sd([r["val"] for r in runs]), "test": mean_sd([r["test"] for r in runs]),
                "seeds": sorted(r["seed"] for r in runs), "seconds": found.get("seconds"), "profile_seconds": None,
                "portable": port.get(label), "note": note})
    return rows


def write(bench) -> None:
    args, st, out = bench.args, bench.state.data, bench.out
    real = Runs(bench.real.state.data["runs"])
    dense = real.stat("dense", args.epochs, "val", args.seeds), real.stat("dense", args.epochs, "test", args.seeds)
    rows = _peer_rows(bench)
    num = lambda v, f="{:.3f}": "" if v is None else f.format(v)  # noqa: E731
    table_rows = []
    for r in rows:
        p = r["portable"] or {}
        exports = ", ".join(f"{k} {v.split(':')[0]}" for k, v in (p.get("exports") or {}).items())
        secs = "" if r["seconds"] is None else f"{r['seconds'] / 60:.1f}" + (
            f" (+{r['profile_seconds'] / 60:.1f} profile)" if r.get("profile_seconds") else "")
        table_rows.append([
            r["arm"], f"{r['amount']:g}", num(r["measured"]), "" if not r["measured"] else f"{1 / r['measured']:.2f}x",
            num(r["macs_kept"]), num(r["params_kept"]), num(r["zero_shot_val"], "{:.4f}"),
            fmt(r["val"], len(r["seeds"])), delta(r["val"], dense[0]), fmt(r["test"]), delta(r["test"], dense[1]),
            secs, (p.get("stock_reload") or "not run").split(":")[0], exports or "not run",
            r["version"] or "", r["note"]])
    tables = [{"title": f"Peers at equal measured latency ({args.epochs} fine-tune epochs, seeds "
               f"{', '.join(map(str, args.seeds))}; dense {fmt(dense[0])} val, {fmt(dense[1])} test)", "headers": [
        "arm", ">budget (latency kept)", ">latency kept (measured)", ">speed-up", ">MACs kept", ">params kept",
        ">val mAP right after the cut", ">val mAP50-95", ">vs dense (points)", ">test mAP50-95", ">vs dense (points)",
        ">minutes to prune", "reloads in stock Ultralytics", "exports", "version", "notes"], "rows": table_rows}]
    from peers_fastnas import CHANGES as FASTNAS_CHANGES
    from peers_tp import CHANGES as TP_CHANGES

    lines = [f"# {args.data}: yoloprune and its peers at the same measured latency", "",
             f"Start: the real-model benchmark's ({args.source}). OpenVINO FP32 latency at {args.imgsz} px, "
             f"{args.threads} threads, medians of {args.runs} interleaved rounds.", ""]
    for t in tables:
        lines += markdown(t) + [""]
    from peers import PEERS

    lines += ["## The arms", "", "- yoloprune oneshot-A / progressive-A: the real-model benchmark's runs (its "
              "defaults, `target=latency`)"] + [f"- {p.name}-A: {p.doc}" for p in PEERS.values() if p.name in
                                                args.peers] + [""]
    lines += ["## What differs from each peer's own instructions", ""]
    lines += [f"- Torch-Pruning: {c}" for c in TP_CHANGES] + [f"- ModelOpt FastNAS: {c}" for c in FASTNAS_CHANGES]
    lines += ["", f"Wall time per stage (minutes): {json.dumps(st.get('minutes', {}))}", "",
              "![tradeoff](tradeoff.png)", "",
              f"Command: `.venv/bin/python benchmarks/peers.py --data {args.data}`"]
    out.mkdir(parents=True, exist_ok=True)
    (out / "table.md").write_text("\n".join(lines) + "\n")
    from yoloprune.io import write_json_atomic

    write_json_atomic({"settings": {k: v for k, v in vars(args).items() if k != "stages"}, "dense": dense,
                       "rows": rows, "search": st["search"], "runs": st.get("runs", {}),
                       "timing": st.get("timing", {}), "portable": st.get("portable", {})}, out / "results.json")
    tradeoff_plot(rows, dense[0], out / "tradeoff.png")
    print("\n".join(lines), flush=True)


def tradeoff_plot(rows: list[dict], dense, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    if dense:
        ax.scatter([1.0], [dense[0]], marker="*", s=160, color="black", label="dense", zorder=3)
    family = lambda r: r["arm"].rsplit("-", 1)[0]  # noqa: E731  (tp-0.5 -> tp, yoloprune oneshot-0.5 -> ...)
    for i, name in enumerate(sorted({family(r) for r in rows})):
        pts = [(r["measured"], r["val"]) for r in rows if r["measured"] and r["val"] and family(r) == name]
        if pts:
            ax.errorbar([p[0] for p in pts], [p[1][0] for p in pts], yerr=[p[1][1] for p in pts], fmt="o",
                        capsize=3, label=name, color=f"C{i}")
    ax.set_xlabel("latency kept, measured (OpenVINO FP32; lower is faster)")
    ax.set_ylabel("val mAP50-95 after the fine-tune")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
