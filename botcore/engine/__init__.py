"""The trading engine: replayed or live candles in, strategy decisions, orders, fills, a ledger."""
