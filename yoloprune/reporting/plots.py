"""The plots a person would rather look at than read: channels per layer, mAP over epochs, accuracy vs latency.

Figures are drawn off-screen with matplotlib's object API (no pyplot, no global backend switch in the
user's process) and written atomically. matplotlib is imported when a plot is drawn, not when this
module is: its first import builds a font cache in the user's home.
"""

from __future__ import annotations

import io
import itertools
from pathlib import Path

from ..io import write_bytes_atomic


def _figure(size: tuple[float, float]):
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: PLC0415 (see the module docstring)
    from matplotlib.figure import Figure  # noqa: PLC0415

    fig = Figure(figsize=size)
    FigureCanvasAgg(fig)
    return fig, fig.subplots()


def _save(fig, path: Path, dpi: int) -> Path:
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return write_bytes_atomic(buffer.getbuffer(), path)


def plot_layers(layers: list[dict], path: Path) -> Path:
    """Output channels per conv layer, dense (grey) behind pruned (blue)."""
    names = [layer["name"].replace("model.", "").replace(".conv", "") for layer in layers]
    fig, ax = _figure((max(8, len(layers) * 0.12), 4))
    x = range(len(layers))
    ax.bar(x, [layer["before"] for layer in layers], color="#bbb", label="dense")
    ax.bar(x, [layer["after"] for layer in layers], color="#1f77b4", label="pruned")
    ax.set_xticks(list(x)[:: max(1, len(layers) // 40)])
    ax.set_xticklabels(names[:: max(1, len(layers) // 40)], rotation=90, fontsize=6)
    ax.set_ylabel("output channels")
    ax.set_title("channels per conv layer, dense vs pruned")
    ax.legend()
    return _save(fig, path, 110)


def plot_curve(curve: list[dict], steps: list[dict] | None, path: Path, dense_map: float | None = None) -> Path:
    """Validation mAP50-95 per epoch, the prune steps as red lines, the dense model as a grey one."""
    fig, ax = _figure((7, 4))
    ax.plot([c["epoch"] for c in curve], [c["map50_95"] for c in curve], marker=".", label="mAP50-95 (val)")
    if dense_map is not None:
        ax.axhline(dense_map, color="grey", linestyle=":", label=f"dense model ({dense_map:.3f})")
    for i, s in enumerate(steps or []):
        ax.axvline(s.get("at_epoch", s["epoch"]), color="red", alpha=0.4, linestyle="--", label="prune step" if i == 0 else None)
    ax.set_xlabel("epoch")
    ax.set_ylabel("mAP50-95")
    ax.grid(alpha=0.3)
    ax.legend()
    return _save(fig, path, 110)


def pareto_plot(rows: list[dict], path: Path, reference: tuple[float, str] | None = None) -> Path:
    """Accuracy (mAP50-95, or size when no dataset) against latency, one marker per ``model`` (dense, pruned,
    or a benchmark's arms), each point labelled format:precision (precision alone when all share a format);
    ``reference``: a (value, label) line."""
    fig, ax = _figure((7, 4.5))
    have_map = any(r.get("map50_95") is not None for r in rows)
    one_format = len({r["format"] for r in rows}) == 1  # then the precision alone labels a point
    # 9 markers against matplotlib's 10 colours: no two of 90 models look alike
    for model, marker in zip(dict.fromkeys(r["model"] for r in rows), itertools.cycle("os^vDP*Xh")):
        pts = [r for r in rows if r["model"] == model and r.get("latency_ms_median")]
        ys = [r["map50_95"] if have_map else r["size_mb"] for r in pts]
        ax.scatter([r["latency_ms_median"] for r in pts], ys, marker=marker, label=model, s=50)
        for r, y in zip(pts, ys):
            label = r["precision"] if one_format else f"{r['format']}:{r['precision']}"
            ax.annotate(label, (r["latency_ms_median"], y), fontsize=7, xytext=(3, 3), textcoords="offset points")
    if reference:
        ax.axhline(reference[0], color="grey", linestyle=":", label=reference[1])
    ax.set_xlabel("latency, median ms (batch 1)")
    ax.set_ylabel("mAP50-95" if have_map else "model size, MB")
    ax.set_title("accuracy vs latency" if have_map else "size vs latency")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, path, 120)


def plot_latency_table(table, path: Path) -> Path:
    """One small staircase per group (latency vs kept width, the rest dense), the fine-grid group, and the
    latency model's predicted vs measured variants."""
    names = list(table.groups)
    extra = [x for x in ("staircase", "validation") if getattr(table, x)]
    cols = 8
    rows = (len(names) + len(extra) + cols - 1) // cols
    fig, _ = _figure((cols * 2.2, rows * 1.9))
    fig.clf()
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax, name in zip(axes, names):
        g = table.groups[name]
        if g.ms_isolated is not None:  # the joint model's line over what the group saved alone
            ax.step(g.widths, g.ms_isolated, where="post", marker=".", color="#bbb")
        if table.model == "joint":  # linear in the kept width by construction
            ax.plot(g.widths, g.ms, marker=".", color="#1f77b4")
        else:
            ax.step(g.widths, g.ms, where="post", marker=".", color="#1f77b4")
        ax.set_title(name.replace("model.", "").replace(".conv", ""), fontsize=6)
        ax.tick_params(labelsize=5)
    i = len(names)
    if table.staircase:
        ax = axes[i]
        ax.step(table.staircase.widths, table.staircase.ms, where="post", marker=".", color="#d62728")
        ax.set_title(f"fine grid: {table.staircase.group} (round_to={table.round_to()})", fontsize=6)
        ax.tick_params(labelsize=5)
        i += 1
    if table.validation:
        ax = axes[i]
        v = table.validation.variants
        dense = table.dense_widths()
        model = [table.predict({**dense, **r.widths}) if r.widths is not None else
                 table.dense_ms - table.calibration * (table.dense_ms - r.predicted) for r in v]
        ax.scatter([r.measured for r in v], [r.predicted for r in v], s=8, color="#bbb", label="isolated, summed")
        ax.scatter([r.measured for r in v], model, s=8, color="#1f77b4", label=f"{table.model} model")
        ax.legend(fontsize=5)
        lo, hi = min(r.measured for r in v), max(r.measured for r in v)
        ax.plot([lo, hi], [lo, hi], color="grey", linewidth=0.8)
        ax.set_title(f"predicted vs measured, MAPE {table.validation.mape:.1%}", fontsize=6)
        ax.tick_params(labelsize=5)
        i += 1
    for ax in axes[i:]:
        ax.set_visible(False)
    k = table.key
    fig.suptitle(f"latency (ms) vs kept channels: {k.hardware}, {k.runtime}:{k.precision}"
                 f"{', ' + k.units if k.units else ''}, imgsz {k.imgsz}, "
                 f"{k.threads} threads (dense {table.dense_ms:.2f} ms)", fontsize=9)
    return _save(fig, path, 100)


def plot_sensitivity(table, path: Path, highlight: int = 8) -> Path:
    """mAP50-95 drop against the fraction removed, one curve per group (the most sensitive labelled)."""
    fig, ax = _figure((8, 5))
    worst = sorted(table.groups, key=lambda n: -max(table.groups[n]["drop"]))[:highlight]
    for name, g in table.groups.items():
        label = name.replace("model.", "").replace(".conv", "") if name in worst else None
        ax.plot(table.ratios, g["drop"], marker="." if label else None, linewidth=1.2 if label else 0.5,
                alpha=1.0 if label else 0.35, label=label)
    ax.set_xlabel("fraction of the group's channels removed (that group alone)")
    ax.set_ylabel(f"mAP50-95 drop (dense {table.dense_map:.3f}, {table.images} val images)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=6, title=f"{highlight} most sensitive", title_fontsize=7)
    return _save(fig, path, 110)
