"""Platform adapters: translate a platform's messages into router calls and deliver replies."""
