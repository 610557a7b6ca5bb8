"""The runner: repeat each case, summarise every metric, compare it to its target, print, save JSON.

A case is a generator function ``case(run) -> Iterator[Sample]``: it sets its workload up, yields one
sample (metric name -> value) per repetition, and cleans up in ``finally``. It raises :class:`Skip` when
what it measures does not exist yet. The runner never fails a run because a target was missed: a
benchmark measures, it does not judge the build.
"""

from __future__ import annotations

import json
import math
import os
import statistics
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, TextIO

from benchmarks.machine import describe_machine

Sample = dict[str, float]
Op = Literal["<=", ">=", "=="]
RESULTS_DIR = Path(__file__).parent / "results"
SCHEMA_VERSION = 1


class Skip(Exception):
    """The case cannot run here (what it measures is not built yet); the message says why."""


def child_env(**extra: str) -> dict[str, str]:
    """The environment of a process a case starts: this one's plus ``extra``, as an installed pmtui runs.

    pip compiles pmtui's bytecode when it installs it. A checkout run from a shell that sets
    ``PYTHONDONTWRITEBYTECODE`` (some do) would compile every module that has no ``.pyc`` yet, in every
    process a case starts: a new or changed module costs each run its compile time, and a fresh second
    checkout (the "before" of a comparison) all of pmtui's, which no user pays.
    """
    env = {**os.environ, **extra}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


@dataclass(frozen=True)
class Target:
    """A bound on a metric's median: ``<=`` for times, ``>=`` for rates, ``==`` for exact counts."""

    op: Op
    value: float

    def met(self, median: float) -> bool:
        if self.op == "<=":
            return median <= self.value
        if self.op == ">=":
            return median >= self.value
        return math.isclose(median, self.value, abs_tol=1e-9)

    def ratio(self, median: float) -> float | None:
        """median / target (below 1 is inside a ``<=`` target); for ``==`` targets the distance + 1."""
        if self.op == "==":
            return None
        if self.value == 0:
            return None
        return median / self.value

    def text(self, unit: str) -> str:
        return f"{self.op} {_number(self.value)} {unit}".strip()


@dataclass(frozen=True)
class Metric:
    """One number a case reports per repetition; ``target`` None means recorded, not judged."""

    name: str
    unit: str
    target: Target | None = None


@dataclass
class Run:
    """What a case is given: its size, how many repetitions, a private folder, and a place for notes."""

    n: int
    reps: int
    quick: bool
    tmp: Path
    notes: dict[str, Any] = field(default_factory=dict)


CaseFunction = Callable[[Run], Iterator[Sample]]


@dataclass(frozen=True)
class Case:
    """A benchmark case: its function, metrics, and sizes for the quick and the full run."""

    name: str
    title: str
    function: CaseFunction
    metrics: tuple[Metric, ...]
    full_n: int
    quick_n: int
    full_reps: int = 5
    quick_reps: int = 2
    target_n: int | None = None
    """The size the targets are stated for; a run at a smaller size marks its verdicts with ``~``."""


@dataclass
class MetricResult:
    metric: Metric
    samples: list[float]

    @property
    def median(self) -> float:
        return float(statistics.median(self.samples))

    @property
    def spread_pct(self) -> float | None:
        """(max - min) / median, in percent: how far apart the repetitions were."""
        if len(self.samples) < 2 or self.median == 0:
            return None
        return (max(self.samples) - min(self.samples)) / abs(self.median) * 100

    def verdict(self) -> str:
        target = self.metric.target
        if target is None:
            return "-"
        return "PASS" if target.met(self.median) else "FAIL"

    def to_json(self) -> dict[str, Any]:
        target = self.metric.target
        return {
            "name": self.metric.name,
            "unit": self.metric.unit,
            "samples": self.samples,
            "median": self.median,
            "min": min(self.samples),
            "max": max(self.samples),
            "spread_pct": self.spread_pct,
            "target": None if target is None else {"op": target.op, "value": target.value},
            "ratio": None if target is None else target.ratio(self.median),
            "verdict": self.verdict(),
        }


@dataclass
class CaseResult:
    case: Case
    n: int
    reps: int
    status: Literal["ok", "skipped", "error"]
    reason: str | None = None
    metrics: list[MetricResult] = field(default_factory=list)
    notes: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def scaled_down(self) -> bool:
        return self.case.target_n is not None and self.n < self.case.target_n

    def misses(self) -> list[str]:
        out = []
        for result in self.metrics:
            if result.verdict() == "FAIL":
                target = result.metric.target
                assert target is not None
                at = f" (at N={self.n:,}, targets assume {self.case.target_n:,})" if self.scaled_down else ""
                out.append(
                    f"{self.case.name} {result.metric.name}: median {_number(result.median)} "
                    f"{result.metric.unit}, target {target.text(result.metric.unit)}{at}"
                )
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "case": self.case.name,
            "title": self.case.title,
            "n": self.n,
            "target_n": self.case.target_n,
            "scaled_down": self.scaled_down,
            "reps": self.reps,
            "status": self.status,
            "reason": self.reason,
            "seconds": self.seconds,
            "metrics": [m.to_json() for m in self.metrics],
            "notes": self.notes,
        }


def run_case(case: Case, *, quick: bool, reps: int | None = None, n: int | None = None) -> CaseResult:
    """Run one case in its own folder and environment; a crash becomes an ``error`` result, not an exit."""
    size = n if n is not None else (case.quick_n if quick else case.full_n)
    count = reps if reps is not None else (case.quick_reps if quick else case.full_reps)
    started = time.perf_counter()
    saved = dict(os.environ)
    with tempfile.TemporaryDirectory(prefix=f"pmtui-bench-{case.name}-") as folder:
        tmp = Path(folder)
        os.environ["PMTUI_HOME"] = str(tmp / "home")
        os.environ["PMTUI_NO_KEYRING"] = "1"
        run = Run(n=size, reps=count, quick=quick, tmp=tmp)
        result = CaseResult(case, size, count, "ok", notes=run.notes)
        samples: list[Sample] = []
        try:
            for sample in case.function(run):
                samples.append(sample)
                if len(samples) >= count:
                    break
        except Skip as exc:
            result.status, result.reason = "skipped", str(exc)
        except Exception as exc:  # noqa: BLE001 - a broken case must not hide the others' numbers
            result.status, result.reason = "error", f"{type(exc).__name__}: {exc}"
            result.notes["traceback"] = traceback.format_exc()
        finally:
            os.environ.clear()
            os.environ.update(saved)
    for metric in case.metrics:
        values = [s[metric.name] for s in samples if metric.name in s]
        if values:
            result.metrics.append(MetricResult(metric, values))
    if result.status == "ok" and not result.metrics:
        result.status, result.reason = "error", "the case produced no samples"
    result.seconds = time.perf_counter() - started
    return result


# ------------------------------------------------------------------------------------------ output


def _number(value: float) -> str:
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude >= 1000:
        return f"{value:,.0f}"
    if magnitude >= 100:
        return f"{value:.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    if magnitude >= 1:
        return f"{value:.2f}"
    return f"{value:.3g}"


HEADER = ("case", "metric", "N", "reps", "median", "spread", "target", "ratio", "verdict")


def table_rows(results: Sequence[CaseResult]) -> list[tuple[str, ...]]:
    """The printed table, one row per (case, metric); skipped and broken cases get one row each."""
    rows: list[tuple[str, ...]] = []
    for result in results:
        if result.status != "ok":
            verdict = "SKIP" if result.status == "skipped" else "ERROR"
            rows.append(
                (
                    result.case.name,
                    f"{verdict.lower()}: {result.reason}",
                    f"{result.n:,}",
                    "-",
                    "-",
                    "-",
                    "-",
                    "-",
                    verdict,
                )
            )
            continue
        for metric in result.metrics:
            target = metric.metric.target
            ratio = None if target is None else target.ratio(metric.median)
            spread = metric.spread_pct
            verdict = metric.verdict()
            if verdict in ("PASS", "FAIL") and result.scaled_down:
                verdict += "~"
            rows.append(
                (
                    result.case.name,
                    metric.metric.name,
                    f"{result.n:,}",
                    str(len(metric.samples)),
                    f"{_number(metric.median)} {metric.metric.unit}".strip(),
                    "-" if spread is None else f"{spread:.0f}%",
                    "-" if target is None else target.text(metric.metric.unit),
                    "-" if ratio is None else f"{ratio:.2f}",
                    verdict,
                )
            )
    return rows


def format_table(results: Sequence[CaseResult]) -> str:
    rows = [HEADER, *table_rows(results)]
    widths = [min(max(len(r[i]) for r in rows), 60) for i in range(len(HEADER))]
    lines = []
    for index, row in enumerate(rows):
        cells = [
            cell if len(cell) <= widths[i] else cell[: widths[i] - 1] + "…" for i, cell in enumerate(row)
        ]
        lines.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(cells)).rstrip())
        if index == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown_table(results: Sequence[CaseResult]) -> str:
    """The same table as Markdown (for docs/performance.md)."""
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    for row in table_rows(results):
        lines.append("| " + " | ".join(cell.replace("|", "/") for cell in row) + " |")
    return "\n".join(lines)


def report(
    results: Sequence[CaseResult], *, quick: bool, started: datetime, machine: dict[str, Any]
) -> dict[str, Any]:
    """The JSON document of a run."""
    return {
        "schema": SCHEMA_VERSION,
        "mode": "quick" if quick else "full",
        "started_at": started.isoformat(),
        "finished_at": datetime.now(UTC).isoformat(),
        "machine": machine,
        "results": [r.to_json() for r in results],
        "misses": [miss for r in results for miss in r.misses()],
        "markdown": markdown_table(results),
    }


def save(document: dict[str, Any], folder: Path = RESULTS_DIR) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    stamp = document["started_at"][:19].replace(":", "").replace("-", "")
    path = folder / f"{stamp}-{document['mode']}.json"
    path.write_text(json.dumps(document, indent=2, default=str) + "\n", encoding="utf-8")
    (folder / f"latest-{document['mode']}.json").write_text(
        path.read_text(encoding="utf-8"), encoding="utf-8"
    )
    return path


def run_all(
    cases: Sequence[Case],
    *,
    quick: bool,
    reps: int | None = None,
    sizes: dict[str, int] | None = None,
    out: TextIO,
    save_to: Path | None = RESULTS_DIR,
) -> dict[str, Any]:
    """Run ``cases`` in order, print progress and the table, save the JSON; returns the document."""
    started = datetime.now(UTC)
    machine = describe_machine()
    label = "QUICK (smaller N, fewer repetitions; same code paths)" if quick else "FULL"
    print(f"pmtui benchmarks: {label}", file=out)
    print(
        f"machine: {machine['cpu_model']}, {machine['cores']} cores, {machine['memory_mb']} MB, "
        f"Python {machine['python']}, load {machine['load_average_at_start']}",
        file=out,
    )
    results = []
    for case in cases:
        n = (sizes or {}).get(case.name)
        print(f"  {case.name} ...", end="", flush=True, file=out)
        result = run_case(case, quick=quick, reps=reps, n=n)
        tail = "" if result.status == "ok" else f" {result.status}: {result.reason}"
        print(f" {result.seconds:.1f} s{tail}", file=out, flush=True)
        results.append(result)
    print("", file=out)
    print(format_table(results), file=out)
    if any(r.scaled_down for r in results):
        print(
            "\n~ ran at a smaller N than its target assumes: a FAIL~ holds a fortiori; a PASS~ is a hint.",
            file=out,
        )
    document = report(results, quick=quick, started=started, machine=machine)
    if document["misses"]:
        print("\nmissed targets:", file=out)
        for miss in document["misses"]:
            print(f"  - {miss}", file=out)
    if save_to is not None:
        path = save(document, save_to)
        print(f"\nresults: {path}", file=out)
    return document
