"""``yolo-prune`` command line: Ultralytics-style ``key=value`` arguments, parsed without ``eval``.

    yolo-prune prune model=best.pt data=shapes target=macs amount=0.5 criterion=l2
    yolo-prune finetune model=runs/prune/exp/pruned.pt data=shapes epochs=10
    yolo-prune demo
    yolo-prune help [command]
"""

from __future__ import annotations

import difflib
import sys
import traceback
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Callable

import torch
from ultralytics.cfg import DEFAULT_CFG_DICT, check_cfg
from ultralytics.utils import LOGGER

from . import offline
from .core.config import ProgressiveConfig, PruneConfig
from .core.latency import LatencyTable
from .demo import DemoConfig, run_demo
from .errors import ConfigError, YoloPruneError
from .benchmarking.benchmark import benchmark, import_device_results, write_outputs
from .export.exporter import export_all
from .export.formats import hardware
from .profiling.profile import profile
from .profiling.kit import merge, write_kit
from .profiling.tables import table_summary
from .reporting.report import build_report
from .searching.config import SearchConfig
from .searching.record import SearchRecord
from .searching.search import search
from .reporting.tables import export_table, markdown_table
from .workflows.finetune import FinetuneConfig, finetune
from .workflows.latency import LatencyCheck
from .workflows.oneshot import prune
from .workflows.progressive import prune_progressive, resume
from .workflows.sensitivity import SensitivityConfig, sensitivity
from .workflows.sparsify import SparsifyConfig, sparsify

ALIASES = {"ratio": "amount", "importance": "criterion", "size": "imgsz"}
METHODS = ("structured", "unstructured")
COMMON = {"project": "runs/prune", "name": "exp", "exist_ok": False, "debug": False}
# the Ultralytics stage whose arguments a command passes through (its cfg keys, Ultralytics' own type checks)
STAGE = {"prune": "train", "finetune": "train", "search": "train", "export": "export", "benchmark": "export"}
# Ultralytics keys that yolo-prune sets itself, with the way to say it here
RESERVED = {
    "mode": "the command chooses it", "task": "yoloprune prunes detect models", "cfg": "give the keys themselves",
    "quantize": "choose the precision in format= (e.g. format=openvino:int8,openvino:fp16)",
    "half": "choose the precision in format= (e.g. format=openvino:fp16)",
    "int8": "choose the precision in format= (e.g. format=openvino:int8)",
}
DEPRECATED = {"benchmark": {"target": "hardware"}}  # old key -> new key, per command
EXPORT_RESERVED = {  # export/benchmark only: the checks and timings are of batch-1 raw outputs
    "batch": "exports are checked and timed at batch 1", "nms": "parity compares the raw outputs (export without nms)",
}
TEXT_KEYS = {"model", "data", "project", "name", "dense", "teacher", "run", "merge", "latency_table", "kit",
             "ray_address", "distill", "schedules", "criteria", "allocations"}  # distill=none is the word, not None  # paths and names: kept as typed


def parse_value(text: str):
    """'true'/'false'/'none', ints, floats, comma lists; anything else stays a string (never eval'd)."""
    low = text.strip().lower()
    if low in {"true", "false"}:
        return low == "true"
    if low in {"none", "null", ""}:
        return None
    if "," in text:
        return tuple(parse_value(part) for part in text.split(",") if part.strip())
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def ultralytics_keys() -> dict:
    """Ultralytics' own cfg keys and defaults."""
    return dict(DEFAULT_CFG_DICT)


def _for_ultralytics(key: str, text: str):
    """CLI values as Ultralytics takes them: ``device=0,1`` -> ``"0,1"``, ``classes=[0,2]`` or ``0,2`` -> list."""
    if text.strip()[:1] in "[(" and text.strip()[-1:] in "])":
        text = text.strip()[1:-1] + ","  # Ultralytics' list syntax; the comma keeps one item a list
    value = parse_value(text)
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value) if key == "device" else list(value)
    return value


def parse_args(command: str, argv: list[str]) -> dict:
    """``key=value`` tokens -> dict over the command's defaults; unknown keys get a 'did you mean'.

    Commands that run an Ultralytics stage (``STAGE``) also take every Ultralytics argument of
    that stage; they are type-checked with Ultralytics' own ``check_cfg`` and returned under
    ``"ultralytics"``, to be passed through unchanged. yoloprune's keys keep priority.
    """
    defaults = COMMANDS[command].defaults()
    args, extra = dict(defaults), {}
    stage = STAGE.get(command)
    theirs = None
    for token in argv:
        key, sep, value = token.partition("=")
        key = ALIASES.get(key.strip().lstrip("-"), key.strip().lstrip("-"))
        if not sep:
            raise ConfigError(f"argument {token!r} must be key=value (e.g. amount=0.5); see 'yolo-prune help {command}'")
        if key in DEPRECATED.get(command, {}):
            new = DEPRECATED[command][key]
            if any(t.partition("=")[0].strip().lstrip("-") == new for t in argv):
                raise ConfigError(f"give '{new}=' only ('{key}=' is its deprecated spelling)")
            LOGGER.warning(f"yolo-prune {command}: '{key}=' is deprecated, use '{new}={value}'")
            key = new
        if key in defaults:
            args[key] = value.strip() if key in TEXT_KEYS and value.strip().lower() not in {"", "none", "null"} \
                else parse_value(value)
            continue
        theirs = theirs if theirs is not None else (ultralytics_keys() if stage else {})
        reserved = {**RESERVED, **(EXPORT_RESERVED if stage == "export" else {})}
        if stage and key in reserved:
            raise ConfigError(f"'{key}' is set by yolo-prune {command}: {reserved[key]}")
        if key not in theirs:
            close = difflib.get_close_matches(key, [*defaults, *(k for k in theirs if k not in RESERVED)], n=1)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            also = f" and Ultralytics' {stage} arguments" if stage else ""
            raise ConfigError(f"unknown key '{key}' for '{command}'.{hint} Valid keys: {', '.join(defaults)}{also} "
                              f"(see 'yolo-prune help {command}')")
        extra[key] = _for_ultralytics(key, value)
    if extra:
        try:
            check_cfg(extra, hard=True)
        except (TypeError, ValueError, SyntaxError) as e:
            raise ConfigError(str(e).strip()) from None
    if stage == "train" and (args.get("epochs") or 0) > 0:  # a training will run (a one-shot prune refuses the key)
        _check_bf16_amp(extra)
    if "skip" in args and not isinstance(args["skip"], (tuple, list)):
        args["skip"] = () if args["skip"] is None else (args["skip"],)
    if stage:
        args["ultralytics"] = extra
    return args


def gpu_indices(device: str, count: int) -> list[int]:
    """The CUDA devices a training on ``device`` (Ultralytics' syntax) runs on: "" -> [0], "cuda:1" -> [1],
    "0,1" -> [0, 1]; -1 (Ultralytics picks idle ones) -> every one of the ``count``, any of which it may pick."""
    ids = device.replace("cuda:", "").replace(" ", "").split(",")
    if any(d.startswith("-") for d in ids):
        return list(range(count))
    return [int(d) for d in ids if d.isdigit()] or [0]


def _native_bf16(indices: list[int]) -> bool:
    """Every one of these GPUs computes bf16 natively (CUDA: compute capability 8, what Ultralytics asks)."""
    if torch.version.hip:  # ROCm: torch's own answer (current device)
        return torch.cuda.is_bf16_supported()
    return all(torch.cuda.get_device_capability(i)[0] >= 8 for i in indices if i < torch.cuda.device_count())


def _check_bf16_amp(extra: dict) -> None:
    """``amp=bf16`` trains under bfloat16 autocast, which Ultralytics runs only on a CUDA GPU with native bf16;
    elsewhere its trainer stops with a RuntimeError after the data and model are set up. Refuse it up front."""
    if str(extra.get("amp")).strip().lower() != "bf16":
        return
    device = str(extra.get("device") if extra.get("device") is not None else "").strip().lower()
    gpu = device.split(":")[0] not in {"cpu", "mps", "npu", "xpu"} and torch.cuda.is_available()  # e.g. xpu:0
    if not gpu or not _native_bf16(gpu_indices(device, torch.cuda.device_count())):
        where = f"device={device}" if device else "this machine (no CUDA GPU)" if not gpu else "this GPU"
        raise ConfigError(f"amp=bf16 needs a CUDA GPU with native bfloat16 (Ampere or newer), not {where}: use "
                          "amp=True (fp16 with a grad scaler) on an older GPU, amp=False on the CPU")


def help_text(command: str | None = None) -> str:
    if command in COMMANDS:
        doc, defaults = COMMANDS[command].help, COMMANDS[command].defaults
        rows = "\n".join(f"  {k}={v}" for k, v in defaults().items())
        stage = STAGE.get(command)
        example = "device=0,1 lr0=0.001 optimizer=AdamW" if stage == "train" else "opset=17 dynamic=False"
        more = (f"\nand every Ultralytics {stage} argument (e.g. {example}; "
                "see 'yolo cfg'), passed through unchanged" if stage else "")
        return f"yolo-prune {command}: {doc}\nkeys (defaults):\n{rows}{more}"
    rows = "\n".join(f"  {name:<9} {c.help}" for name, c in COMMANDS.items())
    return f"usage: yolo-prune <command> key=value ...\ncommands:\n{rows}\n  help      'yolo-prune help <command>' lists its keys"


def run(command: str, args: dict, debug: bool = False) -> str:
    """Execute a parsed command; return the line saying where its outputs are.

    ``debug`` shows the exporters' full output instead of sending it to the run folder's log file.
    """
    args = {k: v for k, v in args.items() if k != "debug"}
    extra = args.pop("ultralytics", {})
    return COMMANDS[command].handler(args, extra, debug)


def _need(args: dict, key: str, what: str, command: str) -> None:
    if args[key] is None:
        raise ConfigError(f"{command} needs {key}=<{what}>")


def _prune(args: dict, extra: dict, debug: bool) -> str:
    outputs = "(weights/best.pt, weights/last.pt, prune.json, prune_schedule.json)"
    if args["compute_units"] is not None and (args["resume"] or args["method"] != "structured"):
        raise ConfigError(f"compute_units={args['compute_units']} picks the merged CoreML table a new structured "
                          "target=latency run prunes with (hardware=mac|iphone, no latency_table=): leave it out here")
    if args["resume"]:  # resume=<last.pt>, or resume=true with model=<last.pt>
        last = args["model"] if args["resume"] is True else args["resume"]
        if extra:
            raise ConfigError(f"{', '.join(sorted(extra))}: a resumed run continues with the arguments it started "
                              "with (they are in its last.pt); start a new run to change them")
        if last is None:
            raise ConfigError("resume needs the interrupted run's checkpoint: resume=<run>/weights/last.pt")
        return f"Results saved to {resume(last).run_dir} {outputs}"
    _need(args, "model", "checkpoint.pt or model.yaml", "prune")
    if args["method"] not in METHODS:
        raise ConfigError(f"unknown method {args['method']!r}: use one of {', '.join(METHODS)} "
                          "(the importance criterion is criterion=..., e.g. criterion=l2)")
    if args["method"] == "unstructured":
        return _sparsify(args)
    where = {"project": args["project"], "name": args["name"], "exist_ok": args["exist_ok"]}
    # target=latency without latency_table=: the workflow profiles (or finds cached) the table for these; with a
    # latency_table= and none of them typed, the table's own device and runtime measure the closed loop
    where_timed = ("hardware", "format", "compute_units")
    defaults = _prune_defaults()
    check = None if args.get("latency_table") and all(args[k] == defaults[k] for k in where_timed) else \
        LatencyCheck(hardware=args["hardware"], format=args["format"], compute_units=args["compute_units"])
    if args["epochs"] > 0:
        config = ProgressiveConfig.of(**{k: v for k, v in args.items() if k in PROGRESSIVE_KEYS})
        result = prune_progressive(args["model"], config, data=args["data"], epochs=args["epochs"], check=check,
                                   **where, train_args={"batch": args["batch"], "workers": args["workers"],
                                                        "seed": config.prune.seed, **extra})
        d = result.report
        print(f"params {d.dense.params:,} -> {d.pruned.params:,}; "
              f"MACs {d.dense.macs:.3f}G -> {d.pruned.macs:.3f}G at imgsz={d.imgsz}")
        return f"Results saved to {result.run_dir} {outputs}"
    if extra:
        raise ConfigError(f"{', '.join(sorted(extra))}: Ultralytics training arguments, but a one-shot prune "
                          "(epochs=0) trains nothing: add epochs=N to prune while training, or pass them to "
                          "'yolo-prune finetune'")
    # schedule keys the user set reach the workflow, which refuses them one-shot
    options = {k: v for k, v in args.items() if k in PRUNE_KEYS or (k in PROGRESSIVE_KEYS and v != defaults[k])}
    result = prune(args["model"], data=args["data"], check=check, **where, **options)
    r = result.report
    print(f"params {r.dense.params:,} -> {r.pruned.params:,} ({r.params_kept:.1%}); "
          f"MACs {r.dense.macs:.3f}G -> {r.pruned.macs:.3f}G ({r.macs_kept:.1%}) at imgsz={r.imgsz}")
    if result.latency:
        lat = result.latency
        measured = f"{lat['measured']:.3f}" if lat.get("measured") is not None else f"not measured ({lat['check']})"
        print(f"latency (fraction of dense): asked {lat['asked']:.3f}, predicted {lat['predicted']:.3f}, measured {measured}")
    return f"Results saved to {result.run_dir} (pruned.pt, prune.json)"


def _sparsify(args: dict) -> str:
    if args["epochs"] > 0:
        raise ConfigError("method=unstructured is one-shot (zeroed weights would grow back in training): drop epochs=")
    result = sparsify(args["model"], SparsifyConfig(amount=args["amount"]), project=args["project"], name=args["name"],
                      exist_ok=args["exist_ok"])
    r = result.report
    print(f"unstructured: {r.sparsity:.1%} of {r.eligible:,} conv weights zeroed; non-zero params {r.params:,} -> "
          f"{r.nonzero:,} (dense runtimes run it as fast as before; export format=coreml stores it sparse)")
    return f"Results saved to {result.run_dir} (sparse.pt, prune.json)"


def _sensitivity(args: dict, extra: dict, debug: bool) -> str:
    _need(args, "model", "trained checkpoint .pt", "sensitivity")
    ratios = args["ratios"] if isinstance(args["ratios"], tuple) else (args["ratios"],)
    config = SensitivityConfig(ratios=ratios, images=args["images"], imgsz=args["imgsz"])
    result = sensitivity(args["model"], config, data=args["data"], project=args["project"], name=args["name"],
                         exist_ok=args["exist_ok"], log_file=None if debug else "auto")
    t = result.table
    worst = sorted(t.groups, key=lambda n: -max(t.groups[n]["drop"]))[:5]
    print(f"dense mAP50-95 {t.dense_map:.3f} on {t.images} val images; most sensitive: " +
          ", ".join(f"{n} (-{max(t.groups[n]['drop']):.3f})" for n in worst))
    return (f"Results saved to {result.run_dir} (sensitivity.json, sensitivity.png); prune with "
            f"allocation=sensitivity sensitivity_table={result.cached}")


def _profile(args: dict, extra: dict, debug: bool) -> str:
    if args["merge"]:
        if args["compute_units"] is not None:
            raise ConfigError(f"compute_units={args['compute_units']}: a merged table takes the units it was timed "
                              "with from its timings (a Mac kit records them; the iPhone CSV's '# compute units:' "
                              "line): leave it out here")
        cached = merge(args["merge"], kit=args["kit"])
        return (f"Latency table {args['merge']} merged into the cache: {cached}\n"
                f"{table_summary(LatencyTable.load(cached))}")
    _need(args, "model", "checkpoint .pt or model .yaml", "profile")
    options = {k: args[k] for k in ("hardware", "format", "imgsz", "threads", "runs", "validate", "fractions", "fit",
                                    "compute_units", "method")}  # checked by ProfileConfig before a run folder is made
    where = {"project": args["project"], "name": args["name"], "exist_ok": args["exist_ok"], "debug": debug}
    if not hardware(args["hardware"]).measured_here:
        kit = write_kit(args["model"], **where, **options).kit
        return (f"Profile kit for {args['hardware']} written to {kit}: run it on the device as its README.txt says, "
                f"then 'yolo-prune profile merge=<kit>/timings.json'")
    result = profile(args["model"], data=args["data"], **where, **options)
    table = result.report
    mape, floor = table.validation.mape if table.validation else None, table.floor_ms()
    reach = (f"pruning reaches at most {table.dense_ms / floor:.2f}x by this table ({floor:.2f} ms, the lowest it "
             f"predicts; groups measured down to {table.depth():.0%} of their widths)" if floor > 0 else
             f"its latency model predicts {floor:.2f} ms at its narrowest widths: beyond its range, profile again")
    print(f"{len(table.groups)} groups, dense {table.dense_ms:.2f} ms ({table.key.runtime}:{table.key.precision}"
          f"{', compute units ' + table.key.units if table.key.units else ''}, "
          f"imgsz {table.key.imgsz}, {table.key.threads} threads); {reach}; round_to=auto -> {table.round_to()}"
          + (f"; latency model MAPE {mape:.1%} on {len(table.validation.variants)} random variants" if mape is not None else ""))
    return f"Results saved to {result.run_dir} (latency_table.json, latency_groups.png; cached as {result.cached})"


def _finetune(args: dict, extra: dict, debug: bool) -> str:
    _need(args, "model", "pruned checkpoint .pt", "finetune")
    keys = {f.name for f in fields(FinetuneConfig)}
    config = FinetuneConfig(**{k: v for k, v in args.items() if k in keys})
    train_args = {k: v for k, v in args.items() if k not in keys | {"model", "data"}}
    where = {k: train_args.pop(k) for k in ("project", "name", "exist_ok")}
    result = finetune(args["model"], config, data=args["data"], **where, train_args={**extra, **train_args})
    return f"Fine-tuned weights saved to {result.checkpoint}"


def _export(args: dict, extra: dict, debug: bool) -> str:
    _need(args, "model", "checkpoint .pt", "export")
    log = None if debug else Path(args["model"]).resolve().parent / "export.log"
    # unknown formats and misplaced export arguments are a user error before anything is exported
    results = export_all(args["model"], args["format"], data=args["data"], imgsz=args["imgsz"], parity=args["parity"],
                         log_file=log, export_args=extra)
    print(export_table(results))
    if log is not None:
        print(f"Full export logs: {log}")
    if not any(r.ok for r in results):
        raise YoloPruneError("no format exported successfully (see the table above" + (f" and {log})" if log else ")"))
    return f"Exports saved beside {args['model']}"


def _benchmark(args: dict, extra: dict, debug: bool) -> str:
    if args["merge"]:  # device results (from a bundle's run_benchmark.py) into an existing run's report
        out = Path(args["project"]) / args["name"]
        if not (out / "benchmark.json").exists():
            raise ConfigError(f"no benchmark.json in {out}: give the project= and name= of the benchmark run")
        write_outputs(import_device_results(out / "benchmark.json", args["merge"]), out)
        return f"Merged {args['merge']} into {out / 'benchmark.json'}"
    _need(args, "model", "pruned checkpoint .pt", "benchmark")
    # unknown hardware and formats are a user error before a run folder is made (BenchmarkConfig checks them)
    result = benchmark(args["model"], dense=args["dense"], data=args["data"], project=args["project"],
                       name=args["name"], exist_ok=args["exist_ok"], debug=debug, hardware=args["hardware"],
                       formats=args["format"], imgsz=args["imgsz"], threads=args["threads"], warmup=args["warmup"],
                       runs=args["runs"], export_args=extra)
    report = result.report
    print(markdown_table(report.to_dict()) if report.rows else f"Device bundle: {report.bundle} (see its README.txt)")
    return (f"Results saved to {result.run_dir} (benchmark.json, benchmark.md, pareto.png"
            f"{', benchmark.log' if report.log else ''})")


def _search(args: dict, extra: dict, debug: bool) -> str:
    where = {k: args[k] for k in ("project", "name", "exist_ok")}
    train_args = {"batch": args["batch"], "workers": args["workers"], **extra}
    if args["resume"]:  # resume=<folder of the search>: its model, data, settings and training arguments
        defaults = _search_defaults()
        given = sorted(k for k, v in args.items() if k not in ("resume", "trials") and v != defaults[k]) + sorted(extra)
        if given:
            raise ConfigError(f"{', '.join(given)}: a resumed search continues with the settings it started with "
                              "(in its search.json); only trials= may be given, to run more")
        record = SearchRecord.load(Path(str(args["resume"])))
        folder = record.path.parent
        trials = record.config.trials if args["trials"] is None else args["trials"]
        result = search(record.model, replace(record.config, trials=trials), data=record.data,
                        train_args=record.train_args, project=folder.parent, name=folder.name, resume=True)
    else:
        _need(args, "model", "trained checkpoint .pt", "search")
        _need(args, "data", "dataset name or data YAML", "search")
        result = search(args["model"], search_config(args), data=args["data"], train_args=train_args, **where)
    print((Path(result.run_dir) / "trials.md").read_text())  # the recommendation and its command are logged above
    return f"Results saved to {result.run_dir} (search.json, trials.md, pareto.png, search.log)"


def search_config(args: dict) -> SearchConfig:
    """The SearchConfig of parsed ``search`` keys: an empty path is "", ``distill=none`` the word (not None)."""
    empty = {"latency_table": "", "ray_address": "", "distill": "none"}
    keys = {f.name for f in fields(SearchConfig)}
    return SearchConfig(**{k: (empty[k] if v is None and k in empty else v) for k, v in args.items()
                           if k in keys and not (k == "trials" and v is None)})


def _search_defaults() -> dict:
    shown = {k: ",".join(map(str, v)) if isinstance(v, list) else v for k, v in SearchConfig().to_dict().items()}
    shown["trials"] = None  # 12 for a new search; a resumed one keeps its own unless trials= asks for more
    return {"model": None, "data": None, **shown, "batch": 16, "workers": 0, "resume": None,
            **COMMON, "project": "runs/search", "name": "exp"}


def _report(args: dict, extra: dict, debug: bool) -> str:
    _need(args, "run", "project>/<name> folder of a yolo-prune run", "report")
    return f"Report written to {build_report(args['run'])}"


def _demo(args: dict, extra: dict, debug: bool) -> str:
    where = {k: args[k] for k in ("project", "name", "exist_ok")}
    result = run_demo(DemoConfig(**{k: v for k, v in args.items() if k not in where}), **where)
    r = result.report
    print(f"\nReport: {result.report_md}\nDense vs pruned (MACs at imgsz={r.imgsz}; latency batch 1, median):\n{r.table}")
    return f"Demo outputs in {result.run_dir} (report.md, report.json, plots, weights, benchmark/)"


PRUNE_KEYS = {f.name for f in fields(PruneConfig)}
PROGRESSIVE_KEYS = PRUNE_KEYS | {f.name for f in fields(ProgressiveConfig)} - {"prune"}


def _prune_defaults() -> dict:
    return {"model": None, "data": None, **ProgressiveConfig().to_dict(), "criterion": "auto", "epochs": 0, "batch": 16,
            "workers": 0, "resume": False, "method": "structured", "hardware": "intel-cpu", "format": "openvino:fp32",
            "compute_units": None, **COMMON}


@dataclass(frozen=True)
class Command:
    help: str
    defaults: Callable[[], dict]  # its keys and their defaults
    handler: Callable[[dict, dict, bool], str]  # (our args, Ultralytics pass-through args, debug) -> where outputs are


COMMANDS: dict[str, Command] = {
    "prune": Command(
        "Prune a .pt/.yaml detector: one-shot (epochs=0) into <project>/<name>/pruned.pt + prune.json, or "
        "progressively while training (epochs=N, schedule/steps/start_epoch/end_epoch) into weights/best.pt; "
        "resume=<run>/weights/last.pt continues an interrupted run. target=latency amount=0.5 keeps half the "
        "latency measured on hardware= with format= (profiled and cached; one-shot runs are measured and corrected; "
        "CoreML tables per compute_units=, default ALL). "
        "method=unstructured zeroes individual weights instead (sparse.pt; CoreML stores them sparse).",
        _prune_defaults, _prune),
    "finetune": Command(
        "Fine-tune a pruned checkpoint, keeping its architecture (Ultralytics training); teacher=<dense.pt> "
        "distill=logit|feature|both distils the dense model into it (distill=native: Ultralytics' own distillation).",
        lambda: {"model": None, "data": "shapes", "epochs": 10, "imgsz": 320, "batch": 8, "workers": 0, "teacher": None,
                 "distill": "none", "distill_weight": None, **COMMON, "name": "finetune"},
        _finetune),
    "export": Command(
        "Export a checkpoint to formats/precisions (onnx, openvino[:fp32|bf16|fp16|int8], coreml[:fp16|int8], "
        "engine[:fp16|int8]) beside it, each checked against PyTorch.",
        lambda: {"model": None, "format": "onnx", "data": None, "imgsz": 640, "parity": True, "debug": False},
        _export),
    "benchmark": Command(
        "Dense vs pruned side by side on the deployment hardware (hardware=intel-cpu measured here; jetson/iphone "
        "via a device bundle).",
        lambda: {"model": None, "dense": None, "hardware": "intel-cpu", "format": "openvino", "data": None, "imgsz": 640,
                 "threads": 2, "runs": 50, "warmup": 10, "merge": None, **COMMON, "project": "runs/benchmark",
                 "name": "exp"},
        _benchmark),
    "profile": Command(
        "Measure the latency table of a model on this machine (hardware=intel-cpu, format=openvino:fp32|bf16|int8 "
        "or onnx; int8 calibrates each variant on a few images of data=): every convolution pruning changes timed "
        "alone over a grid of its channels, their sum calibrated on a few whole variants (method=layers; "
        "method=variants times whole variants, one per group and width: slower; int8's default), a staircase for "
        "round_to=auto, the latency model validated on random variants; cached. "
        "hardware=jetson|mac|iphone writes a profile kit to time on the device (whole variants; a Jetson's or a "
        "Mac's with method=layers: one-layer networks and a few whole variants); merge=<timings.json|table.json> "
        "brings its table into the cache.",
        lambda: {"model": None, "hardware": "intel-cpu", "format": "openvino:fp32", "imgsz": 640, "threads": 2,
                 "data": None, "kit": None, "fractions": None, "fit": None, "compute_units": None,
                 "runs": 15, "validate": 10, "method": "auto", "merge": None, **COMMON, "project": "runs/profile",
                 "name": "exp"},
        _profile),
    "sensitivity": Command(
        "Prune each group alone at ratios= (fractions removed), measure mAP50-95 on images= validation images; "
        "writes sensitivity.json + a plot (cached per checkpoint). allocation=sensitivity in prune uses it as limits.",
        lambda: {"model": None, "data": "shapes", "ratios": (0.25, 0.5, 0.75), "images": 64, "imgsz": 320,
                 **COMMON, "project": "runs/sensitivity", "name": "exp"},
        _sensitivity),
    "search": Command(
        "Find the fastest pruned model within max_drop points of mAP50-95 (val): trials of target=latency prunes "
        "(amounts=low,high of the dense latency on hardware= with format=) and recipes (schedules, criteria, "
        "allocations, distill), each fine-tuned epochs= and validated, hopeless ones stopped early; writes search.json, "
        "trials.md, pareto.png and the command that fine-tunes the recommendation fully. use_ray=True runs the trials "
        "with Ray Tune (ray_address= for a cluster); resume=<folder> continues a search.",
        _search_defaults, _search),
    "report": Command("Rebuild a run's report.md, report.json and plots from the files in its folder.",
                      lambda: {"run": None, "debug": False}, _report),
    "demo": Command(
        "Offline end-to-end demo: shapes data, dense yolov8n, progressive pruning to half the MACs with the "
        "callbacks + fine-tune, the dense model trained as many epochs, export (ONNX, OpenVINO FP32/BF16/INT8, "
        "CoreML), CPU benchmark, run report.",
        lambda: {**DemoConfig().to_dict(), **COMMON, "project": "runs/demo", "name": "demo"},
        _demo),
}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in {"help", "-h", "--help"}:
        print(help_text(argv[1] if len(argv) > 1 else None))
        return 0
    command, rest = argv[0], argv[1:]
    debug = any(t.lstrip("-").partition("=")[0] == "debug" and
                t.partition("=")[2].strip().lower() in {"", "true", "1", "yes", "on"} for t in rest)
    rest = [t for t in rest if t.lstrip("-").split("=")[0] != "debug"]
    try:
        if command not in COMMANDS:
            close = difflib.get_close_matches(command, list(COMMANDS), n=1)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            raise ConfigError(f"unknown command '{command}'.{hint} Commands: {', '.join(COMMANDS)}, help")
        if command == "demo":
            offline.configure()  # the demo is offline by promise (``yoloprune.__main__`` set its environment first)
        else:
            offline.configure_if_requested()  # YOLOPRUNE_OFFLINE=1; otherwise Ultralytics keeps the user's setup
        print(run(command, parse_args(command, rest), debug=debug))
        return 0
    except YoloPruneError as e:
        if debug:
            traceback.print_exc()
        print(f"yolo-prune {command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"yolo-prune {command}: interrupted", file=sys.stderr)
        return 130
