"""The ``clusterlearn`` command. Each group of subcommands lives in its own module and
registers itself on :data:`app`; this module only assembles them and maps errors to exit codes.

Exit codes: 0 success, 2 user error (bad file, key, value or option; message, no traceback),
1 internal error (short message; the traceback goes to a log file).
"""

from __future__ import annotations

import importlib
import sys

import typer

app = typer.Typer(
    name="clusterlearn",
    help="Simulate and analyse collective technological learning in industrial clusters.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)

# Subcommand modules, each registering its commands on `app` at import.
_COMMAND_MODULES = ["run", "experiments", "propositions"]


def _load() -> None:
    for name in _COMMAND_MODULES:
        try:
            importlib.import_module(f"clusterlearn.cli.{name}")
        except ModuleNotFoundError as exc:  # a command group not written yet
            if exc.name != f"clusterlearn.cli.{name}":
                raise


def main() -> None:
    """Entry point of the ``clusterlearn`` console script."""
    _load()
    sys.exit(app())
