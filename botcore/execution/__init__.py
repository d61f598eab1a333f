"""Order execution: the fill model shared by the backtester and the paper/live engine."""
