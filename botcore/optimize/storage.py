"""Where studies live: a journal file on this machine, or a database that many machines share.

A storage is named by a spec string, which is what worker processes receive:

- `journal:PATH`, or a path ending in `.journal` or `.log`: Optuna's JournalStorage over a
  JournalFileBackend. Every process appends operations to the file under a file lock, so any
  number of local processes can work on one study. This is the default, one file per study in
  the cache folder.
- an SQLAlchemy URL (`sqlite:///studies.db`, `postgresql+psycopg://user:pw@host/db`): Optuna's
  RDBStorage. With PostgreSQL, workers on several machines share a study: run the same
  `tradechat optimize ... --storage postgresql+psycopg://...` command on each.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from botcore.errors import OptimizeError, ParamError

if TYPE_CHECKING:
    import optuna

__all__ = ["default_storage", "describe_storage", "is_url", "opened_storage", "resolve_storage"]

_JOURNAL_PREFIX = "journal:"
_URL = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def is_url(spec: str) -> bool:
    """True for an SQLAlchemy database URL (`scheme://...`)."""
    return bool(_URL.match(spec))


def default_storage(folder: Path, study: str) -> str:
    """The journal file `folder/<study>.journal` (the name made safe for a file system)."""
    safe = _UNSAFE.sub("_", study).strip("._") or "study"
    return f"{_JOURNAL_PREFIX}{(folder / f'{safe}.journal').resolve()}"


def resolve_storage(spec: str | None, folder: Path, study: str) -> str:
    """A canonical spec: `spec` as given for a URL, `journal:/absolute/path` for a file.

    Args:
        spec: `--storage` or `[optimize] storage`; None for the default journal file.
        folder: where the default journal file goes.
        study: the study name, which names the default file.

    Raises:
        ParamError: `spec` is neither a URL nor a journal file path.
    """
    if spec is None or not spec.strip():
        return default_storage(folder, study)
    spec = spec.strip()
    if is_url(spec):
        return spec
    path_text = spec.removeprefix(_JOURNAL_PREFIX)
    if spec.startswith(_JOURNAL_PREFIX) or path_text.endswith((".journal", ".log")):
        return f"{_JOURNAL_PREFIX}{Path(path_text).expanduser().resolve()}"
    raise ParamError(
        f"'{spec}' is not a storage: give a journal file (studies.journal, journal:PATH) or a "
        "database URL (sqlite:///studies.db, postgresql+psycopg://user:password@host/db)"
    )


def describe_storage(spec: str) -> str:
    """The spec fit to print: a URL's password is masked, a journal is its path."""
    if spec.startswith(_JOURNAL_PREFIX):
        return spec.removeprefix(_JOURNAL_PREFIX)
    from sqlalchemy.engine import make_url

    try:
        return make_url(spec).render_as_string(hide_password=True)
    except Exception:  # an unparsable URL is reported by the storage itself; never echo it
        return spec.split("://", 1)[0] + "://…"


@contextmanager
def opened_storage(spec: str) -> Iterator[optuna.storages.BaseStorage]:
    """Open the storage a spec names; a database's connections are closed on exit.

    Raises:
        OptimizeError: the database cannot be reached or the URL is invalid.
    """
    import optuna
    from optuna.storages.journal import JournalFileBackend

    if spec.startswith(_JOURNAL_PREFIX):
        path = Path(spec.removeprefix(_JOURNAL_PREFIX))
        path.parent.mkdir(parents=True, exist_ok=True)
        yield optuna.storages.JournalStorage(JournalFileBackend(str(path)))
        return
    engine_kwargs: dict[str, object] = {"pool_pre_ping": True}
    if spec.startswith("sqlite"):
        # SQLite serialises writers; wait for the lock rather than fail a trial.
        engine_kwargs = {"connect_args": {"timeout": 60}}
    try:
        storage = optuna.storages.RDBStorage(spec, engine_kwargs=engine_kwargs)
    except Exception as exc:  # SQLAlchemy and driver errors vary; the message is what matters
        raise OptimizeError(
            f"cannot open the study storage {describe_storage(spec)}: {_first_line(exc)}"
        ) from exc
    try:
        yield storage
    finally:
        storage.remove_session()
        storage.engine.dispose()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
