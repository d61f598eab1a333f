"""One module per `tradechat` subcommand (or group of subcommands)."""
