"""The plots: every series drawn and labelled."""

from yoloprune.reporting import plots


def test_pareto_plot_draws_every_arm_with_its_own_legend_entry(tmp_path, monkeypatch):
    """A benchmark's arms (not only dense / pruned), more of them than there are marker shapes, and the
    reference line all reach the legend; the PNG is written."""
    drawn = {}
    save = plots._save
    monkeypatch.setattr(plots, "_save", lambda fig, path, dpi: (drawn.setdefault("fig", fig), save(fig, path, dpi))[1])
    rows = [{"model": f"arm{i}", "format": "openvino", "precision": p, "latency_ms_median": 10.0 - i - (p == "int8"),
             "map50_95": 0.6 - 0.01 * i} for i in range(12) for p in ("fp32", "int8")]
    path = plots.pareto_plot(rows, tmp_path / "tradeoff.png", reference=(0.585, "dense - 1.5 points"))
    assert path.stat().st_size > 0
    ax = drawn["fig"].axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [f"arm{i}" for i in range(12)] + ["dense - 1.5 points"]
    assert {t.get_text() for t in ax.texts} == {"fp32", "int8"}  # one format: the precision labels each point
    looks = {(tuple(c.get_facecolor()[0]), c.get_paths()[0].vertices.tobytes()) for c in ax.collections}
    assert len(looks) == 12  # colour and marker together tell every arm apart
