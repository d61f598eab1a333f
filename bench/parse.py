"""`python bench/parse.py`: accuracy and speed of the offline intent parser.

What is measured, on the held-out labelled set `tests/chat/data/utterances.jsonl` (kept apart
from the training examples in `prompts/intents/`):

- the one-off cost of training (the sklearn import and the fit, timed apart);
- intent accuracy and exact-argument accuracy (every argument right, nothing extra);
- time per message of `OfflineParser.parse` once fitted: one untimed warm-up pass, then
  `--rounds` timed passes over the whole set; mean, median, 95th percentile and maximum.

`--calibrate` instead prints how the parser's constants were chosen: 5-fold cross-validation on
the training examples only (never the held-out set) of the softmax scale (log-loss) and of the
confidence threshold and the top-two ratio below which a guess was wrong about as often as right.

This is a measurement: it exits 0 on a MISS.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from chat.parse.offline import (  # noqa: E402 - the project root is put on the path first
    AMBIGUITY_RATIO,
    SOFTMAX_SCALE,
    THRESHOLD,
    IntentModel,
    OfflineParser,
    load_examples,
)

HELD_OUT = ROOT / "tests" / "chat" / "data" / "utterances.jsonl"
TARGET_MS = 5.0
TARGET_INTENT = 0.95
TARGET_ARGS = 0.90


def held_out() -> list[dict[str, Any]]:
    lines = HELD_OUT.read_text(encoding="utf-8").splitlines()
    return [json.loads(line, parse_float=Decimal) for line in lines if line.strip()]


def measure(rounds: int, console: Console) -> None:
    started = time.perf_counter()
    import sklearn.feature_extraction.text
    import sklearn.svm  # noqa: F401 - imported to time it apart from the fit

    imported = time.perf_counter()
    parser = OfflineParser()
    parser.fit()
    fitted = time.perf_counter()

    rows = held_out()
    intents = exact = 0
    for row in rows:  # the warm-up pass doubles as the accuracy pass
        result = parser.parse(row["text"])
        if result.intent is not None and result.intent.name == row["intent"]:
            intents += 1
            exact += result.intent.args() == row["args"]
    times_ms = []
    for _ in range(rounds):
        for row in rows:
            begin = time.perf_counter_ns()
            parser.parse(row["text"])
            times_ms.append((time.perf_counter_ns() - begin) / 1e6)
    times_ms.sort()

    def verdict(ok: bool) -> str:
        return "[green]OK[/]" if ok else "[red]MISS[/]"

    p95 = times_ms[int(0.95 * (len(times_ms) - 1))]
    table = Table(title=f"offline parser on {len(rows)} held-out utterances", title_justify="left")
    for name in ("measure", "value", "target", ""):
        table.add_column(name, justify="right" if name == "value" else "left")
    table.add_row("sklearn import", f"{imported - started:.3f} s", "", "")
    table.add_row(
        "fit (examples, vocabulary, model)",
        f"{fitted - imported:.3f} s",
        "< ~1 s",
        verdict(fitted - imported < 1.0),
    )
    table.add_row(
        "intent accuracy",
        f"{intents / len(rows):.1%}",
        f">= {TARGET_INTENT:.0%}",
        verdict(intents / len(rows) >= TARGET_INTENT),
    )
    table.add_row(
        "exact arguments",
        f"{exact / len(rows):.1%}",
        f">= {TARGET_ARGS:.0%}",
        verdict(exact / len(rows) >= TARGET_ARGS),
    )
    table.add_row(
        "mean per message",
        f"{statistics.fmean(times_ms):.3f} ms",
        f"< {TARGET_MS} ms",
        verdict(statistics.fmean(times_ms) < TARGET_MS),
    )
    table.add_row("median per message", f"{statistics.median(times_ms):.3f} ms", "", "")
    table.add_row("p95 per message", f"{p95:.3f} ms", f"< {TARGET_MS} ms", verdict(p95 < TARGET_MS))
    table.add_row("max per message", f"{times_ms[-1]:.3f} ms", "", "")
    console.print(table)
    console.print(
        f"{len(times_ms)} timed parses ({rounds} rounds); Python {sys.version.split()[0]}"
    )


def calibrate(console: Console) -> None:
    from sklearn.model_selection import StratifiedKFold

    parser = OfflineParser()
    parser.fit()
    examples = load_examples()
    texts = [parser.mask(e.text) for e in examples]
    labels = [e.intent for e in examples]
    margins: list[list[float]] = []
    truth: list[str] = []
    names: list[str] = []
    for train, test in StratifiedKFold(5, shuffle=True, random_state=0).split(texts, labels):
        model = IntentModel([texts[k] for k in train], [labels[k] for k in train])
        names = model.labels
        margins.extend(model.margins(texts[k]) for k in test)
        truth.extend(labels[k] for k in test)

    def softmax(row: list[float], scale: float) -> list[float]:
        top = max(row)
        weights = [math.exp((m - top) * scale) for m in row]
        return [w / sum(weights) for w in weights]

    scales = Table(title="softmax scale: cross-validated log-loss", title_justify="left")
    scales.add_column("scale")
    scales.add_column("log-loss", justify="right")
    for scale in (1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0):
        loss = statistics.fmean(
            -math.log(softmax(row, scale)[names.index(label)] + 1e-12)
            for row, label in zip(margins, truth, strict=True)
        )
        mark = " (in use)" if scale == SOFTMAX_SCALE else ""
        scales.add_row(f"{scale:g}{mark}", f"{loss:.3f}")
    console.print(scales)

    guesses = []
    for row, label in zip(margins, truth, strict=True):
        probabilities = sorted(zip(softmax(row, SOFTMAX_SCALE), names, strict=True), reverse=True)
        (first, name), (second, _) = probabilities[0], probabilities[1]
        guesses.append((first, second / first, name == label))
    bins = Table(
        title="held-out folds: accuracy by confidence and by top-two ratio", title_justify="left"
    )
    for column in ("band", "share of guesses", "right"):
        bins.add_column(column, justify="right")
    for low, high in ((0.0, 0.2), (0.2, 0.3), (0.3, 0.4), (0.4, 0.5), (0.5, 0.7), (0.7, 1.01)):
        band = [right for first, _, right in guesses if low <= first < high]
        share = len(band) / len(guesses)
        bins.add_row(
            f"confidence {low:.1f}-{min(high, 1):.1f}",
            f"{share:.1%}",
            f"{statistics.fmean(band):.0%}" if band else "-",
        )
    for low, high in ((0.0, 0.5), (0.5, 0.75), (0.75, 1.01)):
        band = [
            right for first, ratio, right in guesses if low <= ratio < high and first >= THRESHOLD
        ]
        bins.add_row(
            f"ratio {low:.2f}-{min(high, 1):.2f}",
            f"{len(band) / len(guesses):.1%}",
            f"{statistics.fmean(band):.0%}" if band else "-",
        )
    console.print(bins)
    console.print(f"in use: threshold {THRESHOLD}, ambiguity ratio {AMBIGUITY_RATIO}")


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--rounds", type=int, default=5, help="timed passes over the set")
    options.add_argument("--calibrate", action="store_true", help="print the calibration tables")
    args = options.parse_args()
    console = Console(highlight=False)
    if args.calibrate:
        calibrate(console)
    else:
        measure(args.rounds, console)


if __name__ == "__main__":
    main()
