"""Configuration: the example file is complete and valid, env overrides win, errors name the key."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from botcore.config import Settings, load_settings
from botcore.errors import ConfigError

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"


def _keys(model: type, prefix: str = "") -> set[str]:
    keys: set[str] = set()
    for name, field in model.model_fields.items():  # type: ignore[attr-defined]
        annotation = field.annotation
        if isinstance(annotation, type) and hasattr(annotation, "model_fields"):
            keys |= _keys(annotation, f"{prefix}{name}.")
        else:
            keys.add(f"{prefix}{name}")
    return keys


def _flatten(data: dict, prefix: str = "") -> set[str]:  # type: ignore[type-arg]
    keys: set[str] = set()
    for name, value in data.items():
        if isinstance(value, dict):
            keys |= _flatten(value, f"{prefix}{name}.")
        else:
            keys.add(f"{prefix}{name}")
    return keys


def test_example_config_documents_every_setting_with_its_default() -> None:
    text = EXAMPLE.read_text()
    example = tomllib.loads(text)
    assert _flatten(example) | _commented_keys(text) >= _keys(Settings)
    assert load_settings(EXAMPLE) == Settings()


def _commented_keys(text: str) -> set[str]:
    """Keys shown commented out (`# key = value`) because their default is 'unset'."""
    keys, section = set(), ""
    for line in text.splitlines():
        stripped = line.strip()
        header = stripped.removeprefix("# ")
        if header.startswith("[") and header.endswith("]"):
            section = header.strip("[]") + "."
            if stripped.startswith("#"):  # a commented-out table: its name is the key
                keys.add(header.strip("[]"))
        elif stripped.startswith("# ") and " = " in stripped:
            keys.add(section + stripped[2:].split(" = ")[0].strip())
    return keys


def test_environment_overrides_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[backtest]\nfee = 0.002\ncash = 500\n")
    monkeypatch.setenv("TRADECHAT_BACKTEST__FEE", "0.00075")
    settings = load_settings(path)
    assert settings.backtest.fee == 0.00075 and settings.backtest.cash == 500


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[backtest]\nfee = 0.5\n", "backtest.fee"),
        ("[backtest]\nfill = 'sometimes'\n", "backtest.fill"),
        ("[data]\ncahce_dir = 'x'\n", "data.cahce_dir"),
        ("[optimize]\njobs = -1\n", "optimize.jobs"),
        ("[backtest\nfee = 1\n", "not valid TOML"),
    ],
)
def test_invalid_values_fail_at_start_up_naming_the_key(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "c.toml"
    path.write_text(content)
    with pytest.raises(ConfigError, match=message.replace(".", r"\.")):
        load_settings(path)


def test_missing_file_and_bad_environment_are_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(Path("/nonexistent/tradechat.toml"))
    monkeypatch.setenv("TRADECHAT_BACKTEST__MAX_OPEN_POSITIONS", "zero")
    with pytest.raises(ConfigError, match=r"backtest\.max_open_positions"):
        load_settings()
