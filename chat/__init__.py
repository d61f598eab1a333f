"""Chat control (command router, parsers, Telegram/Discord/console adapters).

Empty until the chat issue lands; the package exists so the import-direction test guards it.
"""
