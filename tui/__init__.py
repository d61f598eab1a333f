"""The Textual dashboard. Empty until the TUI issue lands; the import-direction test guards it."""
