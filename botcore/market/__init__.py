"""Markets across symbols and exchanges: the token scanner (`scanner`, fed by `scan_sources`),
cross-exchange arbitrage (`arbitrage`), the multi-exchange portfolio view (`portfolio`) and the
shared handling of several ccxt clients in one process (`venues`)."""
