"""tradechat's engine: market data, strategies, execution, backtests. Never imports chat or tui."""
