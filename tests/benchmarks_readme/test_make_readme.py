"""benchmarks/make_readme.py: the committed benchmarks/README.md is what the results and the Makefile make, the
tables show the JSON's values in the right columns, and the registry's commands are the Makefile's (and agree
with the settings each result file recorded)."""

import importlib.util
import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SPEC = importlib.util.spec_from_file_location("make_readme", ROOT / "benchmarks" / "make_readme.py")
make_readme = sys.modules.setdefault("make_readme", importlib.util.module_from_spec(SPEC))
SPEC.loader.exec_module(make_readme)  # registered first: its dataclasses look their module up
RECIPES = make_readme.makefile_recipes((ROOT / "Makefile").read_text())
BENCH_TARGETS = ("bench", "bench-real", "bench-real-models", "bench-latency", "bench-latency-accuracy")
PATH_KEYS = {"out", "start", "model", "data", "merge", "reuse_arms"}


def in_full_git_checkout() -> bool:
    """The README's dates are the results' last commits: a shallow clone (or none) has other dates."""
    res = subprocess.run(["git", "rev-parse", "--is-inside-work-tree", "--is-shallow-repository"], cwd=ROOT,
                         capture_output=True, text=True)
    return res.returncode == 0 and res.stdout.split() == ["true", "false"]


def tables(markdown: str) -> list[list[dict[str, str]]]:
    """Every markdown table of a document, as rows keyed by header."""
    found, block = [], []
    for line in [*markdown.splitlines(), ""]:
        if line.startswith("|"):
            block.append([c.strip() for c in line.strip("|").split(" | ")])
            continue
        if len(block) > 2:
            found.append([dict(zip(block[0], row)) for row in block[2:]])
        block = []
    return found


def row(markdown: str, first_column: str, value: str) -> dict[str, str]:
    hits = [r for t in tables(markdown) for r in t if r.get(first_column) == value]
    assert hits, f"no table row with {first_column}={value}"
    return hits[0]


@pytest.mark.skipif(not in_full_git_checkout(), reason="dates come from git: needs a full git checkout")
def test_committed_readme_is_up_to_date():
    assert make_readme.main(["--check"]) == 0, "benchmarks/README.md is stale: run make bench-readme"


def synthetic_accuracy() -> dict:
    ran = {f"{arm} {p}": f"{p} weights, f32 compute" for arm in ("dense", "latency") for p in ("fp32", "int8")}
    loop = {"asked": 0.5, "table": {"precision": "fp32"}, "predicted": 0.49, "measured": 0.51,
            "iterations": [{"budget": 0.5}, {"budget": 0.48}]}
    return {
        "settings": {"data": "shapes", "imgsz": 320, "epochs": 10, "seeds": "0,1", "runs": 60, "threads": 2,
                     "recipe": {"lr0": 0.0015}, "out": "/elsewhere", "start": "/elsewhere/best.pt"},
        "machine": {"cpu": "Test CPU 9000", "cpu_flags": ["avx512_bf16"], "system": "Linux-test"},
        "table": {"dense_ms": 9.5, "mape": 0.021},
        "pruned": {"latency": {"macs_kept": 0.4, "params_kept": 0.123, "loop": loop, "measured": 0.51}},
        "runs": [{"arm": "dense", "seed": 0, "map50_95": 0.75, "int8_map50_95": 0.74},
                 {"arm": "dense", "seed": 1, "map50_95": 0.77, "int8_map50_95": 0.76},
                 {"arm": "latency", "seed": 0, "map50_95": 0.69, "int8_map50_95": 0.68},
                 {"arm": "latency", "seed": 1, "map50_95": 0.71, "int8_map50_95": 0.70}],
        "timing_ms": {"dense fp32": 10.0, "dense int8": 5.0, "latency fp32": 5.0, "latency int8": 4.0},
        "precision_ran": ran, "minutes": 12.5}


def synthetic_results(folder: Path) -> Path:
    results = folder / "results"
    (results / "latency_accuracy_shapes").mkdir(parents=True)
    (results / "latency_accuracy_shapes" / "results.json").write_text(json.dumps(synthetic_accuracy()))
    (results / "latency_accuracy_shapes" / "tradeoff.png").write_bytes(b"\x89PNG")
    speed = {"model": "yolov8n.yaml", "imgsz": 320, "batch": 8, "cpu_count": 2,
             "forward_backward": {"ultralytics default (1 thread(s), NCHW)": {"median_s": 0.8, "speedup_vs_default": 1.0},
                                  "2 threads, NHWC (yoloprune)": {"median_s": 0.4, "speedup_vs_default": 2.0}}}
    (results / "cpu_training_speed.json").write_text(json.dumps(speed))
    return results


def test_synthetic_results_render_their_values_in_the_right_columns(tmp_path):
    results, out = synthetic_results(tmp_path), tmp_path / "README.md"
    assert make_readme.main(["--results", str(results), "--out", str(out)]) == 0
    text = out.read_text()
    dense, latency = row(text, "arm", "dense"), row(text, "arm", "latency")
    assert dense["FP32 ms"] == "10.00" and dense["FP32 speed-up"] == "1.00x" and dense["MACs kept"] == "1.000"
    assert latency["MACs kept"] == "0.400" and latency["params kept"] == "0.123"
    assert latency["FP32 ms"] == "5.00" and latency["FP32 speed-up"] == "2.00x"
    assert latency["mAP50-95 (mean ± sd)"] == "0.700 ± 0.014" and latency["per seed"] == "0.690 / 0.710"
    assert latency["INT8 ms"] == "4.00" and latency["INT8 vs dense FP32"] == "2.50x"
    assert latency["INT8 mAP50-95 (mean)"] == "0.690"
    assert latency["FP32 ran as"] == "fp32 weights, f32 compute" and latency["INT8 ran as"] == "int8 weights, f32 compute"
    loop = next(r for t in tables(text) for r in t if "solves" in r)
    assert loop["asked (of dense)"] == "0.5" and loop["measured"] == "0.510" and loop["solves"] == "2"
    assert row(text, "setting", "2 threads, NHWC (yoloprune)")["speed-up"] == "2.00x"
    # the command is the Makefile's line for that --out, the machine and the wall time are the file's
    assert "benchmarks/latency_accuracy.py --start runs/demo/demo/dense/weights/best.pt --data shapes" in text
    assert "- Machine: Test CPU 9000 (avx512_bf16); Linux-test" in text
    assert "- Machine: 2 CPUs (CPU model not recorded)" in text
    assert "Wall time 12.5 min." in text
    assert "[latency_accuracy_shapes/tradeoff.png](results/latency_accuracy_shapes/tradeoff.png)" in text
    assert "## Not measured here yet" in text and "- Pruning on real photos (Roboflow Aquarium)" in text
    assert {p.name for p in tmp_path.iterdir()} == {"results", "README.md"}  # the temporary file was renamed


def test_check_tells_a_stale_readme(tmp_path):
    results, out = synthetic_results(tmp_path), tmp_path / "README.md"
    args = ["--results", str(results), "--out", str(out)]
    assert make_readme.main([*args, "--check"]) == 1  # not written yet
    make_readme.main(args)
    assert make_readme.main([*args, "--check"]) == 0
    out.write_text(out.read_text().replace("2.00x", "2.01x"))
    assert make_readme.main([*args, "--check"]) == 1


def test_makefile_recipes_join_lines_and_expand_variables():
    text = ("A = x/$(B)\nB = y\nt: dep\n\t-$(A) --out $(A)/z \\\n\t\t--k v  # c\n\t# a comment\n\t@echo $$HOME $(HOME)\n")
    assert make_readme.makefile_recipes(text) == {"t": ["x/y --out x/y/z --k v  # c", "echo $HOME $HOME"]}


def bench_lines() -> list[str]:
    return [line for t in BENCH_TARGETS for line in RECIPES[t]]


def test_bench_recipes_are_plain_script_calls():
    for line in bench_lines():
        words = shlex.split(line)
        assert not {"mv", "cp", "rmdir", "mkdir", "for", "do", "done", "test", "&&", "||"} & set(words), line
        assert ";" not in line, line


def test_every_bench_output_has_a_section():
    covered = {o for b in make_readme.BENCHMARKS for p in b.parts for o in p.out_paths()}
    for line in bench_lines():
        out = make_readme.option(shlex.split(line), "--out")
        if out is not None:
            assert out in covered, f"{out} (written by `{line[:80]}...`) has no section in make_readme.BENCHMARKS"


def recorded_settings(data: dict) -> dict:
    """What a result file recorded of the options it ran with: its ``settings``, else its top-level scalars."""
    if isinstance(data.get("settings"), dict):
        return data["settings"]
    return {**(data.get("key") or {}), **{k: v for k, v in data.items() if not isinstance(v, dict)}}


def options(command: str) -> dict[str, str]:
    """``--flag value`` and ``key=value`` pairs of a command line."""
    words, found = shlex.split(command), {}
    for i, w in enumerate(words):
        if w.startswith("--") and i + 1 < len(words) and not words[i + 1].startswith("--"):
            found[w[2:].replace("-", "_")] = words[i + 1]
        elif "=" in w and not w.startswith("-") and not words[i - 1].startswith("--"):
            found[w.partition("=")[0]] = w.partition("=")[2]
    return found


def same(recorded, given: str) -> bool:
    if isinstance(recorded, list):
        return [str(v) for v in recorded] == given.split(",") or [float(v) for v in recorded] == [
            float(v) for v in given.split(",")]
    try:
        return float(recorded) == float(given)
    except (TypeError, ValueError):
        return str(recorded) == given


def disagreements(command: str, settings: dict) -> list[str]:
    return [f"{k}: recorded {settings[k]!r}, command {v!r}" for k, v in options(command).items()
            if k in settings and k not in PATH_KEYS and settings[k] is not None and not isinstance(settings[k], dict)
            and "/" not in str(settings[k]) and not same(settings[k], v)]


def test_commands_agree_with_the_settings_each_result_recorded():
    results, checked = make_readme.RESULTS, 0
    for bench in make_readme.BENCHMARKS:
        for part in bench.parts:
            path = results / part.file
            if not (path.is_file() and path.suffix == ".json"):
                continue
            settings = recorded_settings(json.loads(path.read_text()))
            commands = make_readme.part_commands(part, bench, RECIPES)
            problems = [disagreements(c, settings) for c in commands]
            assert any(not p for p in problems), f"{part.file}: no command agrees with its settings: {problems}"
            checked += 1
    assert checked >= 20


def test_a_registry_entry_whose_makefile_line_is_gone_stops_the_build():
    bench = next(b for b in make_readme.BENCHMARKS if b.target == "bench-latency")
    part = make_readme.Part("latency_target_gone/results.json", make_readme.render_latency_target)
    with pytest.raises(SystemExit, match="latency_target_gone"):
        make_readme.part_commands(part, bench, RECIPES)


def test_every_result_folder_has_a_section():
    registered = {Path(p.file).parts[0] for b in make_readme.BENCHMARKS for p in b.parts}
    registered |= {Path(p.file).stem for b in make_readme.BENCHMARKS for p in b.parts}  # prune_table.md beside .json
    for entry in make_readme.RESULTS.iterdir():
        assert entry.name in registered or entry.stem in registered, \
            f"benchmarks/results/{entry.name} has no section: add it to make_readme.BENCHMARKS"
