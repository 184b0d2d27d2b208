"""Latency tables measured on the target hardware, the latency model built from them, and the knapsack
that spends a latency budget where importance per millisecond is highest (HALP, Shen et al. 2022).

A :class:`LatencyTable` holds, for every prunable group (keyed like :class:`~yoloprune.core.plan.WidthPlan`),
the end-to-end latency of the model with that group at each width of a grid and every other group
dense; its ``key`` says where it was measured (hardware, runtime, precision, imgsz, batch, threads)
and for which architecture (``fingerprint``). The model predicts a pruned variant as the dense latency
minus each group's saving (additive); ``validation`` records how well that held on random variants.
Measuring is :mod:`yoloprune.profiling`'s job; everything here is the table's record and arithmetic on it.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
from scipy.optimize import nnls

from ..errors import ConfigError, UnreachableTargetError
from .plan import partners

STAIRCASE_STEPS = (8, 16, 32, 64)  # candidate channel multiples for round_to=auto


@dataclass(frozen=True)
class TableKey:
    hardware: str  # intel-cpu | mac | iphone | jetson ...
    runtime: str  # the format measured: openvino | onnx | coreml | engine
    precision: str
    imgsz: int
    batch: int
    threads: int
    fingerprint: str  # the architecture (group names and dense widths), see :func:`fingerprint`
    units: str = ""  # CoreML compute units it was timed with (ALL, CPU_AND_NE, ...); "" where a runtime has no choice

    def slug(self) -> str:
        d = asdict(self)
        if not self.units:  # a table without compute units keeps the file name it had before they were keyed
            del d["units"]
        digest = hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:12]
        units = f"-{self.units.lower()}" if self.units else ""
        return f"{self.hardware}-{self.runtime}-{self.precision}-{self.imgsz}{units}-{digest}"


def fingerprint(dense_widths: dict[str, int]) -> str:
    """The architecture a table belongs to: its prunable groups and their dense widths (weights do not matter)."""
    return hashlib.sha256(json.dumps(sorted(dense_widths.items())).encode()).hexdigest()[:16]


class _ReadsLikeJson:
    """Read access by the JSON keys (``g["ms"]``, ``"paired_with" in g``) for code written when these records
    were plain dicts; it warns: read the attributes (``g.ms``, ``g.paired``) instead. An optional field left
    empty (None) reads as a missing key."""

    def __getitem__(self, key: str):
        value = getattr(self, key, None) if key in self.__dataclass_fields__ else None
        if value is None:
            raise KeyError(key)
        warnings.warn(f"{type(self).__name__}[{key!r}]: the latency table's records are dataclasses now: read "
                      f".{key} instead", DeprecationWarning, stacklevel=2)
        return value

    def __contains__(self, key: str) -> bool:
        return key in self.__dataclass_fields__ and getattr(self, key) is not None

    def get(self, key: str, default=None):
        return self[key] if key in self else default


def _record(cls, d, what: str):
    """``cls(**d)`` for a JSON record, or the one error saying which record is malformed."""
    try:
        return cls(**d)
    except TypeError as e:
        raise ConfigError(f"not a yoloprune latency table ({what}: {e}): write one with yolo-prune profile") from None


@dataclass(frozen=True)
class GroupTiming(_ReadsLikeJson):
    """One prunable group in a latency table: the model's end-to-end latency with this group at each measured
    width (ascending, ending at the dense width) and every other group dense.

    A split block's second half (``paired_with`` its twin, which was measured and holds the pair's saving)
    moves with its twin and saves nothing of its own: its ``ms`` are flat. When the joint latency model
    describes the table better, ``ms`` are its fitted line and ``ms_isolated`` the timings it replaced.
    """

    dense: int
    widths: list[int]
    ms: list[float]
    paired_with: str | None = None
    ms_isolated: list[float] | None = None

    def __post_init__(self):
        if len(self.widths) != len(self.ms) or not self.widths:
            raise ConfigError(f"not a yoloprune latency table (a group with {len(self.widths)} widths and "
                              f"{len(self.ms)} timings): write one with yolo-prune profile")

    @property
    def paired(self) -> bool:
        """The second half of a split block: it moves with (and saves within) its twin ``paired_with``."""
        return self.paired_with is not None

    def saved_ms(self, width: int) -> float:
        """Milliseconds saved end to end at ``width`` channels (linear between measured widths)."""
        widths, ms = np.asarray(self.widths, float), np.asarray(self.ms, float)
        return float(np.interp(self.dense, widths, ms)) - float(np.interp(width, widths, ms))

    def to_dict(self) -> dict:
        d = {"dense": self.dense, "widths": list(self.widths), "ms": list(self.ms)}
        if self.paired_with is not None:
            d["paired_with"] = self.paired_with
        if self.ms_isolated is not None:
            d["ms_isolated"] = list(self.ms_isolated)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> GroupTiming:
        return _record(cls, d, "group")


@dataclass(frozen=True)
class Staircase(_ReadsLikeJson):
    """A fine grid on one group (every multiple of 8 near its dense width): where latency steps, which
    ``round_to=auto`` reads."""

    group: str
    widths: list[int]
    ms: list[float]

    def to_dict(self) -> dict:
        return {"group": self.group, "widths": list(self.widths), "ms": list(self.ms)}

    @classmethod
    def from_dict(cls, d: dict) -> Staircase:
        return _record(cls, d, "staircase")


@dataclass(frozen=True)
class ValidationRow(_ReadsLikeJson):
    """One whole variant timed against the table: the table's uncalibrated prediction and its measurement
    (ms), the measurement scaled by the dense model timed beside it (``measured = raw_ms * table dense /
    dense_ms``: drift since the table removed). ``widths``: the groups not at their dense width. Tables
    written by early versions hold ``predicted`` and ``measured`` only."""

    predicted: float
    measured: float
    raw_ms: float | None = None
    dense_ms: float | None = None
    widths: dict[str, int] | None = None

    def to_dict(self) -> dict:
        return {k: (dict(v) if k == "widths" else v) for k, v in
                (("predicted", self.predicted), ("measured", self.measured), ("raw_ms", self.raw_ms),
                 ("dense_ms", self.dense_ms), ("widths", self.widths)) if v is not None}

    @classmethod
    def from_dict(cls, d: dict) -> ValidationRow:
        return _record(cls, d, "validation variant")


# the JSON key order of each kind of validation record (as :func:`choose_model` and a calibration write them)
_CHOSEN_ORDER = ("mape_additive", "mape_isolated_calibrated", "mape_joint", "model", "mape", "fit_variants",
                 "mape_note", "calibration", "variants")
_CALIBRATED_ORDER = ("variants", "mape_additive", "calibration", "mape", "mape_note")


@dataclass(frozen=True)
class Validation(_ReadsLikeJson):
    """How well the table predicts whole random variants: ``mape`` (mean absolute percentage error of the
    end-to-end latency) of the latency model the table holds, on the ``variants`` it was judged on.

    ``mape_additive``: the isolated timings summed, uncalibrated. With fitted variants (``fit_variants``),
    ``model`` is the one chosen ("isolated" scaled by ``calibration``, or "joint") and ``mape_isolated_calibrated``
    / ``mape_joint`` the two candidates' errors. ``mape_note`` says how ``mape`` was measured.
    """

    variants: list[ValidationRow]
    mape: float
    mape_additive: float | None = None
    calibration: float | None = None
    mape_note: str | None = None
    model: str | None = None
    mape_isolated_calibrated: float | None = None
    mape_joint: float | None = None
    fit_variants: int | None = None

    def to_dict(self) -> dict:
        order = _CHOSEN_ORDER if self.model is not None else _CALIBRATED_ORDER + tuple(
            k for k in _CHOSEN_ORDER if k not in _CALIBRATED_ORDER)
        d = {k: getattr(self, k) for k in order if getattr(self, k) is not None}
        d["variants"] = [r.to_dict() for r in self.variants]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> Validation:
        d = dict(d)
        if not isinstance(d.get("variants"), list):
            raise ConfigError("not a yoloprune latency table (its validation has no variants): write one with "
                              "yolo-prune profile")
        d["variants"] = [ValidationRow.from_dict(r) for r in d["variants"]]
        return _record(cls, d, "validation")


@dataclass
class LatencyTable:
    """A model's latency table on one target (``key``): the dense latency, every group's :class:`GroupTiming`,
    the :class:`Staircase` ``round_to=auto`` reads, and the :class:`Validation` of its latency model on random
    variants. ``to_dict`` / ``from_dict`` / ``load``: the JSON ``yolo-prune profile`` writes and caches."""

    key: TableKey
    dense_ms: float  # the dense model end to end (median)
    groups: dict[str, GroupTiming] = field(default_factory=dict)
    staircase: Staircase | None = None  # a fine grid on one group, read by round_to=auto
    validation: Validation | None = None  # how well the table predicts whole random variants
    measured_on: dict = field(default_factory=dict)  # machine info (CPU, flags) where it was measured
    calibration: float = 1.0  # measured / summed savings of whole variants (savings are not fully additive)
    model: str | None = "isolated"  # what ``groups`` hold: "isolated" one-group-at-a-time timings, or "joint"
    # (fitted on random variants); None: a table written before the joint model existed

    def saved_ms(self, name: str, width: int) -> float:
        """Milliseconds saved end to end when group ``name`` keeps ``width`` channels (linear between grid points)."""
        return self.groups[name].saved_ms(width)

    def predict(self, widths: dict[str, int], calibrated: bool = True) -> float:
        """Predicted end-to-end latency (ms) of the variant with these group widths (missing groups: dense):
        the dense latency minus the groups' savings, scaled by the table's calibration."""
        saved = sum(self.saved_ms(name, w) for name, w in widths.items() if name in self.groups)
        return self.dense_ms - (self.calibration if calibrated else 1.0) * saved

    def free(self) -> dict[str, GroupTiming]:
        """The groups that save on their own: every group but the twin halves of split blocks."""
        return {name: g for name, g in self.groups.items() if not g.paired}

    def dense_widths(self) -> dict[str, int]:
        """Every group's dense width."""
        return {name: g.dense for name, g in self.groups.items()}

    def check_model(self, dense_widths: dict[str, int], pruned_ok: bool = False) -> None:
        """Every group being pruned is in the table at its dense width (else the table is another model's);
        ``pruned_ok``: at most its dense width (a later step of a progressive run, the model already pruned)."""
        fits = (lambda w, dense: w <= dense) if pruned_ok else (lambda w, dense: w == dense)
        if any(name not in self.groups or not fits(w, self.groups[name].dense) for name, w in dense_widths.items()):
            raise ConfigError(f"latency table {self.key.slug()} was measured for another architecture: profile this "
                              "model (yolo-prune profile model=...) or give its own table")

    def depth(self) -> float:
        """How narrow the table was measured: the smallest measured width, as a fraction of its group's dense width
        (``target=latency`` predicts no saving below a group's narrowest measured width)."""
        return min((g.widths[0] / g.dense for g in self.free().values()), default=1.0)

    def floor_ms(self) -> float:
        """The lowest latency the table predicts for any widths: every group at its most saving measured width
        (its narrowest, unless a narrower one timed slower), the twin halves of split blocks saving with their
        partner. What stays runs whatever the widths (input, the head's outputs and decoding, non-conv work) or
        is the groups' own narrowest cost; at INT8 it is a larger share of the model than at FP32."""
        saved = sum(max(g.saved_ms(w) for w in g.widths) for g in self.free().values())
        return self.dense_ms - self.calibration * saved

    def round_to(self) -> int:
        """``round_to=auto``: the channel multiple at which latency steps, read from the fine-grid group."""
        if not self.staircase:
            return STAIRCASE_STEPS[0]
        return staircase_step(self.staircase.widths, self.staircase.ms)

    def to_dict(self) -> dict:
        """The table's JSON layout (what ``yolo-prune profile`` writes and caches)."""
        return {"key": asdict(self.key), "dense_ms": self.dense_ms,
                "groups": {name: g.to_dict() for name, g in self.groups.items()},
                "staircase": self.staircase.to_dict() if self.staircase else None,
                "validation": self.validation.to_dict() if self.validation else None,
                "measured_on": dict(self.measured_on), "calibration": self.calibration, "model": self.model}

    @classmethod
    def from_dict(cls, d: dict) -> LatencyTable:
        try:
            return cls(key=TableKey(**d["key"]), dense_ms=float(d["dense_ms"]),
                       groups={name: GroupTiming.from_dict(g) for name, g in d["groups"].items()},
                       staircase=Staircase.from_dict(d["staircase"]) if d.get("staircase") else None,
                       validation=Validation.from_dict(d["validation"]) if d.get("validation") else None,
                       measured_on=d.get("measured_on", {}), calibration=float(d.get("calibration", 1.0)),
                       model=d.get("model"))
        except (KeyError, TypeError, AttributeError) as e:
            raise ConfigError(f"not a yoloprune latency table ({type(e).__name__}: {e}): write one with yolo-prune "
                              "profile") from None

    @classmethod
    def load(cls, path: str | Path) -> LatencyTable:
        try:
            return cls.from_dict(json.loads(Path(path).read_text()))
        except (OSError, ValueError) as e:
            raise ConfigError(f"latency table {path} is not readable ({e}): give the JSON 'yolo-prune profile' "
                              "wrote") from None


def staircase_step(widths, ms, rel_tol: float = 0.02) -> int:
    """The largest candidate multiple ``m`` such that latency is flat inside every block ``(k*m, (k+1)*m]``.

    Runtimes compute channels in blocks (SIMD width, GEMM tiles); a width inside a block costs what the
    block's top costs, so widths are best rounded to the block size. Flat: within ``rel_tol`` of the
    block's largest measured latency. With no steps (latency linear in width) this is the grid's own step.
    """
    w, t = np.asarray(widths, int), np.asarray(ms, float)
    best = STAIRCASE_STEPS[0]
    if t.max() - t.min() <= rel_tol * t.max():
        return best  # a flat curve shows no staircase at all: keep the finest step
    for m in STAIRCASE_STEPS:
        blocks = {}
        for wi, ti in zip(w, t):
            blocks.setdefault((wi - 1) // m, []).append(ti)
        informative = [b for b in blocks.values() if len(b) > 1]
        if not informative and m != STAIRCASE_STEPS[0]:
            break  # the grid cannot tell blocks this size apart
        if all(max(b) - min(b) <= rel_tol * max(b) for b in informative):
            best = m
        else:
            break
    return best


def knapsack(scores: list[np.ndarray], allowed: list[list[int]], names: list[str], pairs, table: LatencyTable,
             budget_ms: float) -> np.ndarray:
    """Widths per group whose predicted latency is within ``budget_ms``, removing channels greedily where the
    importance lost per millisecond saved is lowest (HALP's knapsack, solved greedily over the table's grid).

    ``scores``: per-group channel importances; ``allowed``: each group's permitted widths, ascending;
    ``pairs``: groups that must keep equal widths. Each move narrows one group (a pair together) to whichever
    narrower width costs least importance per millisecond saved (milliseconds beyond what the budget still
    needs count for nothing): on a linear table that is the next width, on a staircase it may cross a flat or
    rising stair (which saves nothing by itself and is never taken for its own sake). Stops at the first move
    that meets the budget; where no narrower width saves anything the error says which limit was hit.
    """
    n = np.array([len(s) for s in scores])
    order = [np.sort(s)[::-1] for s in scores]  # most important first: keeping k keeps order[:k]
    keep = n.copy()
    partner = partners(pairs)

    def predict(k: np.ndarray) -> float:
        return table.predict({name: int(w) for name, w in zip(names, k)})

    def saving(m: int, old: int, new: int) -> float:  # only the moved group's term of the sum changes
        if names[m] not in table.groups:
            return 0.0
        return table.calibration * (table.saved_ms(names[m], new) - table.saved_ms(names[m], old))

    def moves_of(g: int):
        """The group's saving moves from its current width: (lost, saved, {member: width}) as arrays + list."""
        members = [g] + ([partner[g]] if g in partner else [])
        idx = allowed[g].index(keep[g]) if keep[g] in allowed[g] else len(allowed[g]) - 1
        lost, saved, to = [], [], []
        for width in allowed[g][:idx]:
            t = {m: width if m == g else min(allowed[m], key=lambda c: abs(c - width)) for m in members}
            s = sum(saving(m, int(keep[m]), t[m]) for m in members)
            if s > 1e-9:
                lost.append(sum(float(order[m][t[m]:keep[m]].sum()) for m in members))
                saved.append(s)
                to.append(t)
        return np.array(lost), np.array(saved), to

    leaders = [g for g in range(len(n)) if not (g in partner and partner[g] < g)]  # a pair moves as one
    moves = {g: moves_of(g) for g in leaders}  # a group's moves change only when it moves
    current = predict(keep)
    while current > budget_ms:
        need, best = current - budget_ms, None
        for g, (lost, saved, to) in moves.items():
            if not len(lost):
                continue
            ratio = lost / np.minimum(saved, need)  # milliseconds beyond the budget buy nothing
            i = int(np.lexsort((lost, ratio))[0])
            if best is None or (ratio[i], lost[i]) < best[0]:
                best = ((ratio[i], lost[i]), g, to[i])
        if best is None:  # nothing narrower saves time in the table
            raise UnreachableTargetError(_unreachable(table, names, keep, allowed, budget_ms, current))
        _, g, to = best
        for m, width in to.items():
            keep[m] = width
        moves[g] = moves_of(g)
        current = predict(keep)
    return keep


def _unreachable(table: LatencyTable, names: list[str], keep: np.ndarray, allowed: list[list[int]], budget_ms: float,
                 current: float) -> str:
    """Why the knapsack stopped short of ``budget_ms``: per group, the floor, a table not measured narrower, or a
    table that predicts no saving below the width kept."""
    floor, shallow, flat = [], [], []
    for name, k, a in zip(names, keep, allowed):
        g = table.groups.get(name)
        if g is None or g.paired:
            continue
        (floor if k <= a[0] else shallow if k <= g.widths[0] else flat).append(name)
    why = []
    if floor:
        why.append(f"{len(floor)} at their floor (min_channels / max_layer_ratio)")
    if shallow:
        why.append(f"{len(shallow)} as narrow as the table was measured (down to {table.depth():.0%} of a group's width: "
                   "profile again with smaller fractions, e.g. fractions=0.75,0.5,0.25 — for another device, a new "
                   "profile kit)")
    if flat:
        why.append(f"{len(flat)} that the table predicts save nothing narrower")
    return (f"latency budget {budget_ms:.2f} ms ({budget_ms / table.dense_ms:.3f} of dense) cannot be reached: the "
            f"table predicts at best {current:.2f} ms ({current / table.dense_ms:.3f}) with the groups "
            f"{'; '.join(why)} — relax what applies, or ask for less")


def close_loop(asked: float, solve, measure, tolerance: float, iterations: int):
    """Prune to the table, measure, correct the budget, repeat: the closed loop of ``target=latency``.

    ``solve(budget) -> (state, predicted)`` prunes to ``budget`` (fraction of dense latency, as the table
    predicts it); ``measure(state) -> measured`` times the result (fraction of dense). The budget is
    scaled by asked / measured after each miss larger than ``tolerance`` (relative), at most
    ``iterations`` solves. Returns the state closest to ``asked`` and the record of every iteration.
    """
    budget, tried, unreachable = asked, [], []
    while True:
        try:
            state, predicted = solve(budget)
        except ConfigError as e:  # a corrected budget beyond what the table can reach: keep the best so far
            if not tried:
                raise
            unreachable.append({"budget": budget, "error": str(e)})
            break
        measured = measure(state)
        tried.append(({"budget": budget, "predicted": predicted, "measured": measured}, state))
        if abs(measured - asked) <= tolerance * asked or len(tried) >= iterations:
            break
        budget = min(max(budget * asked / measured, 0.02), 0.98)  # too slow: ask the table for less (and v.v.)
    best = min(tried, key=lambda t: abs(t[0]["measured"] - asked))
    return best[1], best[0], [t[0] for t in tried] + unreachable


def calibrate(dense_ms: float, predicted_saved: list[float], measured_saved: list[float]) -> float:
    """The factor that maps summed per-group savings to measured whole-variant savings (least squares through 0),
    kept within [0.25, 4]: outside it the isolated timings do not describe whole variants (see :func:`choose_model`)."""
    p, m = np.asarray(predicted_saved, float), np.asarray(measured_saved, float)
    return float(np.clip((p * m).sum() / (p * p).sum(), 0.25, 4.0)) if (p * p).sum() > 0 else 1.0


def fit_joint(table: LatencyTable, rows: list[ValidationRow], ridge: float = 1e-3) -> dict[str, float]:
    """Milliseconds each group saves when pruned to nothing, fitted on whole random variants: measured saving
    = sum over groups of ``beta_g * (1 - w_g / d_g)`` (non-negative least squares, a small ridge).

    Isolated timings (one group pruned, the rest dense) miss how groups interact; at small image sizes the
    runtime's savings appear only when many groups shrink together. ``rows``: whole variants, their ``widths``
    (which may list only the groups not at their dense width) and ``measured``.
    """
    free = table.free()
    names = list(free)
    a = np.array([[1 - r.widths.get(n, free[n].dense) / free[n].dense for n in names] for r in rows])
    b = np.array([table.dense_ms - r.measured for r in rows])
    lam = ridge * float(np.mean(np.sum(a * a, axis=0)))
    beta, _ = nnls(np.vstack([a, np.sqrt(lam) * np.eye(len(names))]), np.concatenate([b, np.zeros(len(names))]))
    return dict(zip(names, map(float, beta)))


def choose_model(table: LatencyTable, fit_rows: list[ValidationRow], val_rows: list[ValidationRow]) -> Validation:
    """Pick the latency model that predicts held-out variants best, and set the table to it.

    Candidates: the isolated timings scaled by one calibration factor (fitted on ``fit_rows``), and the
    joint model (:func:`fit_joint` on ``fit_rows``). Both are judged on ``val_rows`` (mean absolute
    percentage error of end-to-end latency); the winner's per-group curves go into ``table.groups`` (the
    isolated ones are kept as ``ms_isolated`` when the joint model wins). Returns the validation record
    (judged on ``val_rows``).
    """
    def mape(predict):
        return float(np.mean([abs(predict(r) - r.measured) / r.measured for r in val_rows]))

    dense = table.dense_widths()

    def isolated(r, scale):
        return table.dense_ms - scale * (table.dense_ms - table.predict({**dense, **r.widths}, calibrated=False))

    scale = calibrate(table.dense_ms, [table.dense_ms - isolated(r, 1.0) for r in fit_rows],
                      [table.dense_ms - r.measured for r in fit_rows])
    beta = fit_joint(table, fit_rows)

    def joint(r):
        return table.dense_ms - sum(b * (1 - r.widths.get(n, table.groups[n].dense) / table.groups[n].dense)
                                    for n, b in beta.items())

    scores = {"isolated": mape(lambda r: isolated(r, scale)), "joint": mape(joint)}
    chosen = min(scores, key=scores.get)
    additive = mape(lambda r: isolated(r, 1.0))
    table.model = chosen
    if chosen == "joint":
        table.calibration = 1.0
        for n, b in beta.items():
            g = table.groups[n]
            table.groups[n] = replace(g, ms=[table.dense_ms - b * (1 - w / g.dense) for w in g.widths],
                                      ms_isolated=g.ms_isolated if g.ms_isolated is not None else g.ms)
        for n, g in table.groups.items():
            if g.paired:
                table.groups[n] = replace(g, ms=[table.groups[g.paired_with].ms[-1]] * len(g.widths))
    else:
        table.calibration = scale
    return Validation(variants=list(val_rows), mape=scores[chosen], mape_additive=additive,
                      calibration=table.calibration, model=chosen, mape_isolated_calibrated=scores["isolated"],
                      mape_joint=scores["joint"], fit_variants=len(fit_rows),
                      mape_note=f"{chosen} model, fitted on {len(fit_rows)} random variants, measured on "
                                f"{len(val_rows)} others")
