"""End to end in headless Chromium: the real `tradechat tui --serve`, driven by pip playwright.

xterm.js paints the terminal on a canvas, so the page has no text to read and there is no OCR
here. The checks work on the screenshots' pixels instead:

- The grid is exact. The page opens `/ws?width=COLS&height=ROWS`, and the text canvas is COLS x
  ROWS cells, so every terminal row and column is a known block of pixels.
- The expected answer comes from the same router, run in this process on the same store (served
  with `--attach`, so no engine moves the store on). The chat widget's own `reply_text` turns it
  into the lines the panel draws.
- After Enter, the log rows that gained ink must be the echo of the question and then the
  answer's lines, in order. Each row's ink must span its line's columns, within one cell.
- Glyphs: cells where the expected text has the same character and style must hold the same
  pixels, and cells with different characters must differ. That fixes the drawn text up to a
  consistent swap of glyphs, so one wrong digit fails.

An error reply, the answer to another question, a changed number, or keystrokes that never
reached the terminal each fail (each was tried). A change of colours, padding or font does not.

Screenshots go to tmp_path, and also to `$TRADECHAT_SHOTS_DIR` when it is set. textual-serve runs
one `python -m tui` per tab through `/bin/sh -c`, in the server's process group. The server gets a
session of its own, so teardown can signal that whole group.
"""

from __future__ import annotations

import asyncio
import getpass
import io
import itertools
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest
from numpy.typing import NDArray
from PIL import Image
from playwright.sync_api import Browser, Page, ViewportSize, sync_playwright

from botcore.config import Settings, load_settings
from botcore.persistence import Store
from chat.access import Caller
from chat.bot import build_router
from chat.commands import BotContext
from tests.tui.conftest import Copy
from tui.widgets.chat_log import reply_text

CHROMIUM = Path("/usr/bin/chromium")
# Offline: no Google services or QUIC, and every host name but ours fails at once, so the
# page's fonts.googleapis.com stylesheet falls back to the bundled font without waiting.
CHROMIUM_ARGS = [
    *("--no-sandbox", "--disable-gpu", "--disable-background-networking"),
    *("--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"),
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
]
VIEWPORT: ViewportSize = {"width": 1100, "height": 700}
QUESTION = "how much did I make this week?"
INK = 60  # a channel this far from the background is drawn text, not anti-aliasing haze
Pixels = NDArray[np.int16]
Styled = list[tuple[str, str]]  # a drawn line: (character, style) per cell
Shots = Callable[[str, bytes], Pixels]


# -- the configuration file ---------------------------------------------------------------------
def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a valid TOML basic string
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {_toml(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"no TOML for {value!r}")


def write_config(settings: Settings, path: Path) -> Path:
    """The settings as given (not their defaults) as a TOML file `load_settings` reads back."""
    raw = settings.model_dump(mode="json", exclude_unset=True)
    lines = [f"{json.dumps(k)} = {_toml(v)}" for k, v in raw.items() if not isinstance(v, dict)]
    for section, values in raw.items():
        if isinstance(values, dict):
            lines.append(f"[{section}]")
            lines += [f"{json.dumps(k)} = {_toml(v)}" for k, v in values.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


# -- the server and its processes ---------------------------------------------------------------
@dataclass(frozen=True)
class Proc:
    pid: int
    state: str
    cmdline: str


def processes(pgid: int, marker: str) -> list[Proc]:
    """Live processes in group `pgid` or naming `marker` (zombies have ended: left out)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
        except OSError:  # it ended while we looked
            continue
        state, _ppid, group = stat.rsplit(")", 1)[1].split()[:3]
        if state != "Z" and (int(group) == pgid or marker in cmdline):
            found.append(Proc(int(entry.name), state, cmdline))
    return found


def dashboards(found: list[Proc]) -> list[Proc]:
    """The `python -m tui` processes (not the `/bin/sh -c` that started them)."""
    return [p for p in found if " -m tui " in f"{p.cmdline} " and "/bin/sh" not in p.cmdline]


@dataclass
class Served:
    """A running `tradechat tui --serve`; the last two fields are set once it has stopped."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path
    marker: str  # the config file's path: on the command line of every process of this test
    needed_sigkill: list[Proc] = field(default_factory=list)
    leftovers: list[Proc] = field(default_factory=list)

    def session(self) -> list[Proc]:
        return processes(self.process.pid, self.marker)

    def wait_gone(self, timeout_s: float, which: Callable[[list[Proc]], list[Proc]]) -> list[Proc]:
        deadline = time.monotonic() + timeout_s
        while (left := which(self.session())) and time.monotonic() < deadline:
            time.sleep(0.05)
        return left


def http_status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (our http URL)
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


@contextmanager
def serve(config: Path, host: str, env: dict[str, str], *options: str) -> Iterator[Served]:
    """`tradechat tui --serve` in its own session; on exit SIGTERM to the server, then SIGKILL
    to its group for anything left after 5 s."""
    script = Path(sys.executable).with_name("tradechat")
    assert script.exists(), f"no tradechat console script beside {sys.executable}"
    with socket.socket() as probe:
        probe.bind((host, 0))
        port = probe.getsockname()[1]
    command = [str(script), "tui", "--serve", "--host", host, "--port", str(port), *options]
    log = config.with_name(f"serve-{port}.log")
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*command, "--config", str(config)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    served = Served(f"http://127.0.0.1:{port}/", process, log, str(config.resolve()))
    try:
        for _ in range(300):  # 15 s
            assert process.poll() is None, f"the server exited: {log.read_text()}"
            with suppress(OSError):
                http_status(served.url)  # any answer, 401 included
                break
            time.sleep(0.05)
        else:
            pytest.fail(f"nothing listened at {served.url} within 15 s")
        yield served
    finally:
        # SIGTERM to the server alone, as `kill PID` or a service manager sends it: the server
        # must end the dashboards (and engines) of any tab still open on its own
        with suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        served.needed_sigkill = served.wait_gone(5.0, list)
        if served.needed_sigkill:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)
        served.leftovers = served.wait_gone(2.0, list)


def server_env(**extra: str) -> dict[str, str]:
    """This environment without `TRADECHAT_*` (they would override the config file)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("TRADECHAT_")} | extra


# -- the terminal's pixels ----------------------------------------------------------------------
def pixels(png: bytes) -> Pixels:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.int16)


def changed_fraction(a: Pixels, b: Pixels) -> float:
    """The share of pixels that differ visibly between two images of the same size."""
    return float((np.abs(a - b).max(axis=2) > INK).mean())


def dominant(region: Pixels) -> Pixels:
    """The most common colour (the background), from every other pixel: quick, and plenty."""
    sample = region[::2, ::2].reshape(-1, 3).astype(np.int32)
    values, counts = np.unique(
        (sample[:, 0] << 16) | (sample[:, 1] << 8) | sample[:, 2], return_counts=True
    )
    top = int(values[counts.argmax()])
    return np.array([top >> 16, (top >> 8) & 255, top & 255], dtype=np.int16)


@dataclass(frozen=True)
class Grid:
    """Where the terminal's cells are in a screenshot."""

    left: int
    top: int
    cols: int
    rows: int
    cell_w: int
    cell_h: int

    def band(self, image: Pixels, first: int, last: int) -> Pixels:
        """Terminal rows `first`..`last` (inclusive), all columns."""
        bottom, right = self.top + (last + 1) * self.cell_h, self.left + self.cols * self.cell_w
        return image[self.top + first * self.cell_h : bottom, self.left : right]

    def cell(self, image: Pixels, row: int, col: int) -> Pixels:
        y, x = self.top + row * self.cell_h, self.left + col * self.cell_w
        return image[y : y + self.cell_h, x : x + self.cell_w]

    def inked(self, image: Pixels, rows: range, bg: Pixels) -> dict[int, tuple[int, int]]:
        """For each row with something drawn: its first and last inked column."""
        found = {}
        for row in rows:
            ink = np.abs(self.band(image, row, row) - bg).max(axis=2) > INK
            if ink.sum() >= 4:
                xs = np.flatnonzero(ink.any(axis=0))
                found[row] = (int(xs[0]) // self.cell_w, int(xs[-1]) // self.cell_w)
        return found


def settle(
    page: Page, crop: Callable[[Pixels], Pixels], ready: Callable[[Pixels], bool], timeout_s: float
) -> None:
    """Take screenshots until `ready` holds and the cropped part has stopped changing."""
    deadline = time.monotonic() + timeout_s
    previous: Pixels | None = None
    while time.monotonic() < deadline:
        image = pixels(page.screenshot())
        if ready(image) and previous is not None and np.array_equal(crop(image), previous):
            return
        previous = crop(image)
        time.sleep(0.15)
    # past the deadline the test goes on: the assertions that follow say what is missing


def wait_for_data(page: Page, grid: Grid) -> None:
    """Until the overview has read the store: its header then gains a sub-title (mode, state)
    beside "tradechat". Past the timeout the test goes on; only the screenshot is earlier."""

    def titled(image: Pixels) -> bool:
        header = grid.band(image, 0, 0)
        ink = np.abs(header - dominant(header)).max(axis=2) > INK
        cells = {int(x) // grid.cell_w for x in np.flatnonzero(ink.any(axis=0))}
        return len(cells - {0, 1}) > len("tradechat") + 3  # column 0 holds the header's icon

    settle(page, lambda i: i, titled, timeout_s=8.0)


# -- what the chat panel should draw ------------------------------------------------------------
def expected_answer(settings: Settings, question: str) -> str:
    """The router's reply on this store, asked as the served dashboard's console user."""
    user = getpass.getuser()

    async def ask() -> str:
        with Store.open(settings.database.url) as store:
            router = build_router(settings, BotContext(settings, store))
            return (await router.handle_text(Caller("console", user, name=user), question)).text

    # sync playwright runs an event loop in this thread; asyncio.run needs one without
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, ask()).result()


def drawn_lines(who: str, text: str) -> list[Styled]:
    """A chat message's non-blank lines as the log draws them: `who› ` then the reply markup."""
    body = reply_text(text, code="code", bold="bold")
    styles = [""] * len(body.plain)
    for part in body.spans:
        styles[part.start : part.end] = [str(part.style)] * (part.end - part.start)
    cells = [(c, who) for c in f"{who}› "]
    cells += [(c, f"{who}:{s}") for c, s in zip(body.plain, styles, strict=True)]
    lines: list[Styled] = [[]]
    for cell in cells:
        if cell[0] == "\n":
            lines.append([])
        else:
            lines[-1].append(cell)
    return [line for line in lines if "".join(c for c, _ in line).strip()]


def span(line: Styled) -> tuple[int, int]:
    text = "".join(c for c, _ in line)
    return len(text) - len(text.lstrip()), len(text.rstrip()) - 1


def looks_same(a: Pixels, b: Pixels) -> bool:
    """Two cells show the same glyph. Their outer pixel columns are left out: a neighbour's
    anti-aliased edge may reach into them. Measured here, the same glyph then matches exactly;
    the closest pair of different glyphs (`c` and `o`) differs in 4 pixels."""
    return int((np.abs(a[:, 1:-1] - b[:, 1:-1]).max(axis=2) > INK).sum()) <= 1


def glyph_mismatches(
    image: Pixels, grid: Grid, rows: list[int], origin: int, lines: list[Styled]
) -> list[str]:
    """Cells that break "same character and style, same pixels; different, different". Wide
    characters and their neighbours are left out: their glyphs may spill over the cell edges."""
    groups: dict[tuple[str, str], list[tuple[tuple[int, int], Pixels]]] = {}
    for row, line in zip(rows, lines, strict=True):
        for col, cell in enumerate(line):
            if all(c.isascii() for c, _ in line[max(col - 1, 0) : col + 2]):
                where = (row, origin + col)
                groups.setdefault(cell, []).append((where, grid.cell(image, *where)))
    problems = [
        f"{key} at {first} and at {where} are drawn differently"
        for key, [(first, block), *others] in groups.items()
        for where, other in others
        if not looks_same(block, other)
    ]
    for (a, [(wa, ba), *_]), (b, [(wb, bb), *_]) in itertools.combinations(groups.items(), 2):
        if a[1] == b[1] and looks_same(ba, bb):
            problems.append(f"{a} at {wa} and {b} at {wb} look the same")
    return problems


# -- the browser --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing; CI must install Debian's chromium (.ci/run)")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@pytest.fixture
def shots(tmp_path: Path) -> Shots:
    """Save a screenshot under tmp_path (and `$TRADECHAT_SHOTS_DIR`); return its pixels."""
    folder = tmp_path / "shots"
    folder.mkdir()
    copy_to = os.environ.get("TRADECHAT_SHOTS_DIR")

    def save(name: str, png: bytes) -> Pixels:
        (folder / f"{name}.png").write_bytes(png)
        if copy_to:
            Path(copy_to).mkdir(parents=True, exist_ok=True)
            shutil.copy(folder / f"{name}.png", Path(copy_to) / f"{name}.png")
        return pixels(png)

    return save


@pytest.fixture
def config(copy: Copy, tmp_path: Path) -> Path:
    path = write_config(copy.settings, tmp_path / "tradechat.toml")
    # the served dashboard must see exactly the replay's settings, or the answers differ
    assert load_settings(path) == copy.settings
    return path


def blank_page(browser: Browser) -> bytes:
    page = browser.new_page(viewport=VIEWPORT)
    png = page.screenshot()
    page.close()
    return png


def open_dashboard(browser: Browser, url: str) -> tuple[Page, Grid]:
    """A new tab (fresh cookies) on the served dashboard, once its terminal has drawn."""
    page = browser.new_page(viewport=VIEWPORT)
    page.set_default_timeout(15_000)
    sockets: list[str] = []
    page.on("websocket", lambda ws: sockets.append(ws.url))
    response = page.goto(url)
    assert response is not None and response.status == 200, url
    page.wait_for_selector("body.-first-byte #terminal canvas.xterm-text-layer")
    assert sockets, "the page opened no websocket to the dashboard"
    size = parse_qs(urlsplit(sockets[-1]).query)
    cols, rows = int(size["width"][0]), int(size["height"][0])
    box = page.locator("#terminal canvas.xterm-text-layer").bounding_box()
    assert box is not None
    cell_w, cell_h = box["width"] / cols, box["height"] / rows
    # xterm sizes cells in whole device pixels; comparing glyphs cell by cell relies on it
    assert cell_w.is_integer() and cell_h.is_integer(), (box, cols, rows)
    return page, Grid(round(box["x"]), round(box["y"]), cols, rows, int(cell_w), int(cell_h))


# -- the tests ----------------------------------------------------------------------------------
def test_the_served_chat_panel_draws_the_routers_answer(
    browser: Browser, copy: Copy, config: Path, shots: Shots
) -> None:
    answer = expected_answer(copy.settings, QUESTION)
    expected = drawn_lines("you", QUESTION) + drawn_lines("bot", answer)
    empty = shots("blank", blank_page(browser))
    with serve(config, "127.0.0.1", server_env(), "--attach") as served:
        page, grid = open_dashboard(browser, served.url)
        # the comparisons below count one terminal row per line: no line may wrap
        assert max(map(len, expected)) < grid.cols - 4, f"{grid.cols} columns are too few"
        log_rows = range(1, grid.rows - 2)  # below the header; above the input and the footer
        input_row = grid.rows - 2

        def log(image: Pixels) -> Pixels:
            return grid.band(image, log_rows.start, log_rows.stop - 1)

        def typed_to(image: Pixels) -> int:  # the input row's last inked column
            row = grid.inked(image, range(input_row, input_row + 1), dominant(log(image)))
            return row.get(input_row, (0, -1))[1]

        def typed_text(image: Pixels) -> Pixels:  # the input row, short of the blinking cursor
            return grid.band(image, input_row, input_row)[:, : (len(QUESTION) + 1) * grid.cell_w]

        wait_for_data(page, grid)
        before = shots("overview", page.screenshot())
        running = dashboards(served.session())
        page.focus("#terminal .xterm-helper-textarea")  # else the keys go nowhere
        page.keyboard.press("5")
        # the chat panel is up when the log's area holds little more than the welcome note
        settle(page, log, lambda i: 0 < len(grid.inked(i, log_rows, dominant(log(i)))) <= 5, 8)
        opened = shots("chat-opened", page.screenshot())
        bg = dominant(log(opened))
        old = grid.inked(opened, log_rows, bg).keys()
        page.keyboard.type(QUESTION)
        settle(page, typed_text, lambda i: typed_to(i) >= len(QUESTION), 5)
        typed = shots("chat-typed", page.screenshot())
        page.keyboard.press("Enter")

        def answered(image: Pixels) -> bool:
            return len(grid.inked(image, log_rows, bg).keys() - old) >= len(expected)

        settle(page, log, answered, timeout_s=15)
        after = shots("chat-answered", page.screenshot())
        page.close()
        outlived = served.wait_gone(5.0, dashboards)  # the tab's websocket has closed

    assert len(running) == 1, f"one dashboard process for one browser tab: {running}"
    # the keystrokes reached the chat input: its row is inked as far as the question (+ cursor)
    reached = typed_to(typed)
    assert reached in (len(QUESTION), len(QUESTION) + 1), f"the input row ends at {reached}"
    new = grid.inked(after, log_rows, bg)
    rows = sorted(new.keys() - old)
    origin = min((new[row][0] for row in rows), default=0)
    drawn = [(new[row][0] - origin, new[row][1] - origin) for row in rows]
    want = [span(line) for line in expected]
    assert len(drawn) == len(want), f"rows drawn {drawn}, expected {want} for:\n{answer}"
    for got, line in zip(drawn, want, strict=True):
        assert abs(got[0] - line[0]) <= 1 and abs(got[1] - line[1]) <= 1, (drawn, want)
    problems = glyph_mismatches(after, grid, rows, origin, expected)
    assert not problems, "\n".join(problems[:12])
    assert changed_fraction(after, empty) > 0.5, "the answered page looks like a blank page"
    assert changed_fraction(after, before) > 0.05, "the chat panel looks like the overview"
    assert outlived == [], f"dashboards outlived their browser tab: {outlived}"
    assert served.needed_sigkill == [] and served.leftovers == [], served


def test_off_localhost_only_the_token_opens_the_dashboard(
    browser: Browser, config: Path, shots: Shots
) -> None:
    token = secrets.token_urlsafe(16)
    env = server_env(TRADECHAT_TUI_TOKEN=token)
    # bound to every interface, reached on loopback; no --attach: the replay engine starts too
    with serve(config, "0.0.0.0", env) as served:
        refused = [http_status(served.url + path) for path in ("", "?token=wrong", "ws")]
        printed = served.log.read_text()
        page, grid = open_dashboard(browser, f"{served.url}?token={token}")
        wait_for_data(page, grid)
        image = shots("token-overview", page.screenshot())
        running = dashboards(served.session())
        # the tab stays open: stopping the server must end its live dashboard too

    assert refused == [401, 401, 401]
    assert f"?token={token}" in printed, printed
    # the websocket carried only the cookie the token set, and the dashboard drew through it
    assert len(running) == 1, running
    drawn = grid.inked(image, range(grid.rows), dominant(image))
    assert len(drawn) >= grid.rows // 2, f"only rows {sorted(drawn)} are drawn"
    assert changed_fraction(image, pixels(blank_page(browser))) > 0.5
    assert served.needed_sigkill == [], f"ignored SIGTERM: {served.needed_sigkill}"
    assert served.leftovers == [], f"left running after the server stopped: {served.leftovers}"
    page.close()
