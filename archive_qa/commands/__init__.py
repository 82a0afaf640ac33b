"""One module per `archive-qa` command, each with `add_parser(commands)` and `run(args) -> exit status`.

A new command is a new module here plus one line in `archive_qa.cli.COMMAND_MODULES`.
"""
