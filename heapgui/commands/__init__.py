"""One module per `heapgui-cli` subcommand."""
