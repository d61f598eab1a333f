"""Structured logging: JSON lines in a file for machines, readable lines on the console."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import structlog
from structlog.typing import Processor

__all__ = ["configure_logging"]


def configure_logging(
    log_file: Path | None, console: bool = True, level: int = logging.INFO
) -> None:
    """Route structlog events to `log_file` as JSON and, when `console`, to stderr as text."""
    handlers: list[logging.Handler] = []
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(log_file, encoding="utf-8")
        handler.setFormatter(
            structlog.stdlib.ProcessorFormatter(
                processor=structlog.processors.JSONRenderer(), foreign_pre_chain=shared
            )
        )
        handlers.append(handler)
    if console:
        stream = logging.StreamHandler(sys.stderr)
        stream.setFormatter(
            structlog.stdlib.ProcessorFormatter(
                processor=structlog.dev.ConsoleRenderer(colors=False), foreign_pre_chain=shared
            )
        )
        handlers.append(stream)
    root = logging.getLogger("tradechat")
    for old in root.handlers:  # configuring again (tests, a second run) must not leak files
        old.close()
    root.handlers = handlers
    root.setLevel(level)
    root.propagate = False
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
