"""The dashboard's screens: overview, chart, trades, backtest, chat, and the dialogs."""
