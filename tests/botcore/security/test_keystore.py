"""The encrypted keystore: round trips, wrong passphrases, tampering, file mode, no leaks."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path

import pytest

from botcore.security.keystore import (
    PASSPHRASE_ENV,
    ExchangeKeys,
    Keystore,
    KeystoreError,
    resolve_passphrase,
)

PASSPHRASE = "correct horse battery staple"  # noqa: S105 (test data)
# Binance's documentation example key pair: public, never a real account.
API_KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"  # noqa: S105


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    store = Keystore.create(tmp_path / "user_data" / "keystore.json", PASSPHRASE)
    store.add("binance-main", "binance", API_KEY, SECRET)
    store.add("okx-sub", "okx", "okx-key-123", "okx-secret-456", "okx-pass-789")
    return store.path


def test_keys_survive_a_round_trip_through_the_file(store_path: Path) -> None:
    store = Keystore.open(store_path, PASSPHRASE)
    assert store.names() == ["binance-main", "okx-sub"]
    assert store.exchange_of("okx-sub") == "okx"
    assert store.get("binance-main") == ExchangeKeys(
        name="binance-main", exchange="binance", api_key=API_KEY, secret=SECRET
    )
    okx = store.get("okx-sub")
    assert (okx.api_key, okx.secret, okx.password) == (
        "okx-key-123",
        "okx-secret-456",
        "okx-pass-789",
    )


def test_the_file_holds_no_secret_in_the_clear(store_path: Path) -> None:
    text = store_path.read_text()
    for secret in (API_KEY, SECRET, "okx-key-123", "okx-secret-456", "okx-pass-789", PASSPHRASE):
        assert secret not in text
    assert "binance-main" in text  # names and exchanges stay readable, by design


def test_each_file_gets_its_own_salt_and_each_entry_its_own_nonce(tmp_path: Path) -> None:
    first = Keystore.create(tmp_path / "a.json", PASSPHRASE)
    second = Keystore.create(tmp_path / "b.json", PASSPHRASE)
    for store in (first, second):
        store.add("x", "binance", API_KEY, SECRET)
    a, b = (json.loads(s.path.read_text()) for s in (first, second))
    assert a["kdf"]["salt"] != b["kdf"]["salt"]
    assert a["entries"]["x"]["ciphertext"] != b["entries"]["x"]["ciphertext"]
    assert a["kdf"]["n"] >= 2**15


def test_a_wrong_passphrase_is_refused(store_path: Path) -> None:
    with pytest.raises(KeystoreError, match="wrong passphrase"):
        Keystore.open(store_path, "correct horse battery stapler")


def test_a_tampered_ciphertext_fails_the_integrity_check(store_path: Path) -> None:
    raw = json.loads(store_path.read_text())
    sealed = bytearray(base64.b64decode(raw["entries"]["binance-main"]["ciphertext"]))
    sealed[5] ^= 0x01  # one flipped bit
    raw["entries"]["binance-main"]["ciphertext"] = base64.b64encode(bytes(sealed)).decode()
    store_path.write_text(json.dumps(raw))
    store = Keystore.open(store_path, PASSPHRASE)  # the passphrase is still right
    with pytest.raises(KeystoreError, match=r"'binance-main'.*integrity check.*altered"):
        store.get("binance-main")
    assert store.get("okx-sub").api_key == "okx-key-123"  # other entries are unaffected


def test_moving_an_entry_to_another_name_or_exchange_is_detected(store_path: Path) -> None:
    raw = json.loads(store_path.read_text())
    raw["entries"]["renamed"] = raw["entries"].pop("binance-main")
    raw["entries"]["okx-sub"]["exchange"] = "binance"
    store_path.write_text(json.dumps(raw))
    store = Keystore.open(store_path, PASSPHRASE)
    for name in ("renamed", "okx-sub"):
        with pytest.raises(KeystoreError, match="integrity check"):
            store.get(name)


def test_a_tampered_header_reads_as_a_wrong_passphrase(store_path: Path) -> None:
    raw = json.loads(store_path.read_text())
    raw["kdf"]["salt"] = base64.b64encode(b"0123456789abcdef").decode()
    store_path.write_text(json.dumps(raw))
    with pytest.raises(KeystoreError, match=r"wrong passphrase.*altered"):
        Keystore.open(store_path, PASSPHRASE)


def test_a_header_asking_for_huge_scrypt_costs_is_refused(store_path: Path) -> None:
    raw = json.loads(store_path.read_text())
    raw["kdf"]["n"] = 2**30
    store_path.write_text(json.dumps(raw))
    with pytest.raises(KeystoreError, match="unsupported key derivation"):
        Keystore.open(store_path, PASSPHRASE)


def test_the_file_is_private_and_written_atomically(store_path: Path) -> None:
    assert stat.S_IMODE(store_path.stat().st_mode) == 0o600
    store = Keystore.open(store_path, PASSPHRASE)
    store.remove("okx-sub")
    assert stat.S_IMODE(store_path.stat().st_mode) == 0o600
    assert [p.name for p in store_path.parent.iterdir()] == ["keystore.json"]  # no temp left


def test_a_keystore_others_can_read_is_refused(store_path: Path) -> None:
    store_path.chmod(0o644)
    with pytest.raises(KeystoreError, match=r"accessible to other users \(mode 0644\).*chmod 600"):
        Keystore.open(store_path, PASSPHRASE)


def test_secrets_never_show_in_repr_or_str(store_path: Path) -> None:
    keys = Keystore.open(store_path, PASSPHRASE).get("okx-sub")
    for text in (repr(keys), str(keys), f"{keys}", repr([keys])):
        assert "okx-sub" in text
        for secret in ("okx-key-123", "okx-secret-456", "okx-pass-789"):
            assert secret not in text


def test_remove_deletes_and_unknown_names_get_suggestions(store_path: Path) -> None:
    store = Keystore.open(store_path, PASSPHRASE)
    store.remove("okx-sub")
    assert Keystore.open(store_path, PASSPHRASE).names() == ["binance-main"]
    with pytest.raises(KeystoreError, match="no entry 'binance-mian'; did you mean binance-main"):
        store.get("binance-mian")
    with pytest.raises(KeystoreError, match="no entry 'okx-sub'"):
        store.remove("okx-sub")


def test_bad_entries_and_duplicates_are_refused(store_path: Path) -> None:
    store = Keystore.open(store_path, PASSPHRASE)
    with pytest.raises(KeystoreError, match="already has an entry 'binance-main'"):
        store.add("binance-main", "binance", "k", "s")
    with pytest.raises(KeystoreError, match="cannot name a key"):
        store.add("../escape", "binance", "k", "s")
    with pytest.raises(KeystoreError, match="both an API key and a secret"):
        store.add("empty", "binance", "k", "")
    assert Keystore.open(store_path, PASSPHRASE).names() == ["binance-main", "okx-sub"]


def test_create_refuses_to_overwrite_and_open_needs_a_file(tmp_path: Path) -> None:
    path = tmp_path / "keystore.json"
    Keystore.create(path, PASSPHRASE)
    with pytest.raises(KeystoreError, match="already exists"):
        Keystore.create(path, "another passphrase")
    with pytest.raises(KeystoreError, match="no keystore at"):
        Keystore.open(tmp_path / "missing.json", PASSPHRASE)
    with pytest.raises(KeystoreError, match="non-empty passphrase"):
        Keystore.create(tmp_path / "other.json", "")


def test_a_file_that_is_not_a_keystore_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text('{"hello": "world"}')
    path.chmod(0o600)
    with pytest.raises(KeystoreError, match="not a readable tradechat keystore"):
        Keystore.open(path, PASSPHRASE)


def test_the_passphrase_comes_from_the_environment_before_the_prompt() -> None:
    asked: list[bool] = []

    def prompt() -> str:
        asked.append(True)
        return "typed"

    assert resolve_passphrase(prompt, {PASSPHRASE_ENV: "from-env"}) == "from-env"
    assert not asked
    assert resolve_passphrase(prompt, {}) == "typed"
    assert asked == [True]
