"""Docs as tests: every reported metric is defined in the README, and the quick start is real."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from botcore.backtest.metrics import Metrics

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_every_metric_is_defined_in_the_readme() -> None:
    section = README.split("## Metrics", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"`([a-z_]+)`", section))
    missing = {f.name for f in dataclasses.fields(Metrics)} - documented
    assert not missing


def test_quick_start_targets_exist_and_install_the_project_themselves() -> None:
    makefile = (ROOT / "Makefile").read_text()
    for target in ("demo", "test", "lint", "bench"):
        assert re.search(rf"^{target}: \$\(STAMP\)", makefile, re.M), target
    assert "pip install" in makefile and "-e '.[dev]'" in makefile
    assert "make demo" in README and "make test" in README
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make lint" in ci and "make test" in ci and "postgresql" in ci


def test_every_chat_command_is_in_the_readme_table() -> None:
    from chat import registry

    section = README.split("### Chat commands", 1)[1].split("\n### ", 1)[0]
    listed = set(re.findall(r"^\| `/([a-z_]+)", section, re.M))
    assert listed == set(registry.COMMANDS) - {"unknown"}
