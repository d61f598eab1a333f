"""Use cases every front end (CLI, chat, TUI) calls; typed results, no wording."""
