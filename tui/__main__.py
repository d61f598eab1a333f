"""`python -m tui [--config FILE]`: the dashboard alone, without the tradechat command line.

textual-serve runs this once per browser session (see `tui.serve.app_command`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    """Load the settings and run the dashboard until it quits; 2 on a configuration error."""
    parser = argparse.ArgumentParser(prog="python -m tui", description=__doc__)
    parser.add_argument("--config", "-c", type=Path, default=None, help="TOML config file.")
    parser.add_argument(
        "--attach", action="store_true", help="Never start an engine; only watch the database."
    )
    args = parser.parse_args(argv)
    from botcore.config import load_settings
    from botcore.errors import BotcoreError

    try:
        settings = load_settings(args.config)
    except BotcoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    from tui.app import TradechatApp

    TradechatApp(settings, start_engine=not args.attach, tune_gc=True).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
