"""`tradechat keys` as a user meets it: add (prompted or scripted), list, remove, never a secret."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from botcore.security.keystore import PASSPHRASE_ENV, Keystore
from tradechat import cli
from tradechat.commands import keys

runner = CliRunner()
PASSPHRASE = "cli test passphrase"  # noqa: S105 (test data)
API_KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"  # noqa: S105

# Until tradechat/cli.py registers the group, mount it the same way here.
if not any(group.name == "keys" for group in cli.app.registered_groups):
    cli.app.add_typer(keys.app, name="keys")


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return tmp_path / "user_data" / "keystore.json"


@pytest.fixture
def env() -> dict[str, str]:
    return {PASSPHRASE_ENV: PASSPHRASE, "COLUMNS": "200"}


def run(env: dict[str, str], *args: str, stdin: str | None = None) -> tuple[int, str]:
    result = runner.invoke(cli.app, ["keys", *args], env=env, input=stdin)
    assert "Traceback" not in result.output
    for secret in (API_KEY, SECRET, PASSPHRASE, "okx-pass-1"):
        assert secret not in result.output
    return result.exit_code, result.output


def add(env: dict[str, str], store: Path, name: str = "main", exchange: str = "binance") -> str:
    """`keys add` with the key and secret given as options (the scripted way); its output."""
    code, out = run(
        env, "add", name, "--exchange", exchange, "--api-key", API_KEY, "--secret", SECRET,
        "--keystore", str(store),
    )  # fmt: skip
    assert code == 0, out
    return out


def test_add_list_remove_round_trip_with_the_passphrase_from_the_environment(
    store: Path, env: dict[str, str]
) -> None:
    out = add(env, store, "binance-main")
    assert "created keystore" in out and "added 'binance-main' (binance)" in out
    assert stat.S_IMODE(store.stat().st_mode) == 0o600
    keys_back = Keystore.open(store, PASSPHRASE).get("binance-main")
    assert (keys_back.api_key, keys_back.secret) == (API_KEY, SECRET)

    code, out = run(env, "list", "--keystore", str(store))
    assert code == 0 and "binance-main" in out and "binance" in out

    code, out = run(env, "remove", "binance-main", "--keystore", str(store))
    assert code == 0 and "removed 'binance-main'" in out
    code, out = run(env, "list", "--keystore", str(store))
    assert code == 0 and "holds no keys yet" in out


def test_add_prompts_with_hidden_input_and_asks_for_a_passphrase_when_the_exchange_needs_one(
    store: Path, env: dict[str, str]
) -> None:
    answers = "okx-key-1\nokx-secret-1\nokx-pass-1\n"
    code, out = run(
        env, "add", "okx-sub", "--exchange", "okx", "--keystore", str(store), stdin=answers
    )
    assert code == 0, out
    assert "API key:" in out and "API secret:" in out and "okx API passphrase:" in out
    assert "okx-key-1" not in out and "okx-secret-1" not in out  # hidden input is not echoed
    okx = Keystore.open(store, PASSPHRASE).get("okx-sub")
    assert (okx.api_key, okx.secret, okx.password) == ("okx-key-1", "okx-secret-1", "okx-pass-1")


def test_a_new_keystore_asks_for_the_passphrase_twice_without_the_environment(
    store: Path,
) -> None:
    answers = f"{PASSPHRASE}\n{PASSPHRASE}\n{API_KEY}\n{SECRET}\n"
    code, out = run(
        {}, "add", "main", "--exchange", "binance", "--keystore", str(store), stdin=answers
    )
    assert code == 0, out
    assert "Repeat for confirmation" in out
    assert Keystore.open(store, PASSPHRASE).names() == ["main"]


def test_a_wrong_passphrase_is_a_polite_error(store: Path, env: dict[str, str]) -> None:
    add(env, store)
    code, out = run({PASSPHRASE_ENV: "not it"}, "list", "--keystore", str(store))
    assert code == 2 and "wrong passphrase" in out


def test_mistakes_earn_suggestions_not_tracebacks(store: Path, env: dict[str, str]) -> None:
    code, out = run(env, "add", "main", "--exchange", "binanse", "--keystore", str(store))
    assert code == 2 and "did you mean binance" in out
    assert not store.exists()
    code, out = run(env, "list", "--keystore", str(store))
    assert code == 2 and "no keystore at" in out and "tradechat keys add" in out
    add(env, store)
    code, out = run(env, "remove", "mian", "--keystore", str(store))
    assert code == 2 and "did you mean main" in out
    code, out = run(
        env, "add", "main", "--exchange", "binance", "--api-key", "k", "--secret", "s",
        "--keystore", str(store),
    )  # fmt: skip
    assert code == 2 and "already has an entry 'main'" in out
