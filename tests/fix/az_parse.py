"""Parse az command lines with the real Azure CLI's parser, never running them: the steps of
`az` itself up to `parse_args` (azure/cli/core/commands/__init__.py, AzCliCommandInvoker.execute).
Run by the azure-cli test environment's Python (make azcli): one JSON argv per input line, one
JSON answer per output line, null when the parser accepts the line."""

import json
import sys

from azure.cli.core import get_default_cli
from azure.cli.core.commands.events import (
    EVENT_INVOKER_POST_LOAD_ARGUMENTS,
    EVENT_INVOKER_PRE_LOAD_ARGUMENTS,
)
from knack import events


def parse(cli, argv):
    invocation = cli.invocation_cls(
        cli_ctx=cli,
        parser_cls=cli.parser_cls,
        commands_loader_cls=cli.commands_loader_cls,
        help_cls=cli.help_cls,
    )
    cli.invocation = invocation
    loader = invocation.commands_loader
    table = loader.load_command_table(argv)
    words = [a for a in argv if not a.startswith("-")]
    command = next(
        (" ".join(words[:n]) for n in range(len(words), 0, -1) if " ".join(words[:n]) in table),
        None,
    )
    if command is None:
        return "no such command: az " + " ".join(words[:3])
    invocation.data["command_string"] = command
    loader.command_table = {command: table[command]}
    loader.command_name = command
    cli.raise_event(EVENT_INVOKER_PRE_LOAD_ARGUMENTS, commands_loader=loader)
    loader.load_arguments(command)
    cli.raise_event(EVENT_INVOKER_POST_LOAD_ARGUMENTS, commands_loader=loader)
    cli.raise_event(events.EVENT_INVOKER_POST_CMD_TBL_CREATE, commands_loader=loader)
    invocation.parser.cli_ctx = cli
    invocation.parser.load_command_table(loader)
    cli.raise_event(
        events.EVENT_INVOKER_CMD_TBL_LOADED, cmd_tbl=loader.command_table, parser=invocation.parser
    )
    try:
        invocation.parser.parse_args(argv)
    except SystemExit as exit_:
        return f"the parser refused it (exit {exit_.code})"
    return None


def main():
    cli = get_default_cli()
    for line in sys.stdin:
        argv = json.loads(line)
        print(json.dumps({"argv": argv, "error": parse(cli, argv)}), flush=True)


main()
