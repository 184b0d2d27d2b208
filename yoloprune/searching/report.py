"""What a person reads from a search: ``pareto.png`` (measured latency vs mAP50-95: every trial, the front, the dense
model, the budget line, the recommendation) and ``trials.md`` (one row per trial)."""

from __future__ import annotations

from pathlib import Path

from ..io import write_text_atomic
from ..reporting.plots import _figure, _save  # matplotlib is imported on the first plot (see reporting.plots)
from .front import pareto, within
from .record import SearchRecord


def plot_pareto(record: SearchRecord, path: Path) -> Path:
    fig, ax = _figure((7.5, 4.8))
    dense, drop = record.dense_map, record.config.target_drop
    front = pareto(record.trials)
    done = [t for t in record.trials if t.status == "finished" and t.timed is not None]
    stopped = [t for t in record.trials if t.status == "stopped" and t.timed is not None and t.maps]
    ax.scatter([t.timed for t in done], [t.map for t in done], color="#1f77b4", label="trial (all epochs)", zorder=3)
    if stopped:
        ax.scatter([t.timed for t in stopped], [t.maps[-1] for t in stopped], color="#999", marker="x",
                   label="stopped early (mAP when stopped)", zorder=3)
    if front:
        ax.step([t.timed for t in front], [t.map for t in front], where="post", color="#1f77b4", alpha=0.5,
                label="Pareto front")
    if dense is not None:
        ax.scatter([1.0], [dense], color="black", marker="s", label=f"dense ({dense:.3f})", zorder=4)
        ax.axhline(dense - drop, color="red", linestyle="--", alpha=0.6,
                   label=f"budget: -{record.config.max_drop:g} point{'s' if record.config.max_drop != 1 else ''}")
    best = next((t for t in record.trials if t.index == record.recommended), None)
    if best is not None:
        ax.scatter([best.timed], [best.map], s=220, marker="*", color="#d62728", zorder=5,
                   label=f"recommended: {1 / best.timed:.2f}x")
    for t in done:
        ax.annotate(str(t.index), (t.timed, t.map), textcoords="offset points", xytext=(4, 4), fontsize=7)
    ax.set_xlabel(f"latency, fraction of the dense model's ({record.config.hardware}, {record.config.format}, measured)")
    ax.set_ylabel("mAP50-95 (val)")
    ax.set_title(f"search: {len(record.trials)} trials of {record.config.epochs} epochs")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    return _save(fig, path, 110)


def trials_table(record: SearchRecord) -> str:
    """The trials as a Markdown table, in the order they ran."""
    front = {t.index for t in pareto(record.trials)}
    dense = record.dense_map
    rows = ["| trial | latency asked | measured | speed-up | schedule | criterion | allocation | distill | epochs | "
            "mAP50-95 | vs dense | status |", "|" + "---|" * 12]
    for t in record.trials:
        s = t.spec
        measured = f"{t.timed:.3f}" if t.timed is not None else "-"
        speed = f"{1 / t.timed:.2f}x" if t.timed else "-"
        value = f"{t.map:.4f}" if t.map is not None else "-"
        delta = f"{(t.map - dense) * 100:+.1f}" if t.map is not None and dense is not None else "-"
        status = {"finished": "finished", "stopped": f"stopped ({t.stopped_by})", "failed": "failed",
                  "running": "running"}[t.status]
        if t.index in front:
            status += ", front"
        if t.index == record.recommended:
            status += ", **recommended**"
        elif t.status == "finished" and dense is not None and not within(t, dense, record.config.target_drop):
            status += ", over budget"
        rows.append(f"| {t.index} | {s.amount:.3f} | {measured} | {speed} | {s.schedule} | {s.criterion} | "
                    f"{s.allocation} | {s.distill} | {len(t.maps)} | {value} | {delta} | {status} |")
    return "\n".join(rows) + "\n"


def write_outputs(record: SearchRecord) -> list[Path]:
    out = record.path.parent
    return [plot_pareto(record, out / "pareto.png"), write_text_atomic(trials_table(record), out / "trials.md"),
            record.save()]
