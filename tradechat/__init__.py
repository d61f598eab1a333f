"""The `tradechat` console script: wires botcore, chat and tui into commands."""
