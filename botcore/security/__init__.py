"""Secrets at rest: the encrypted keystore holding exchange API keys."""

from botcore.security.keystore import ExchangeKeys, Keystore, KeystoreError

__all__ = ["ExchangeKeys", "Keystore", "KeystoreError"]
