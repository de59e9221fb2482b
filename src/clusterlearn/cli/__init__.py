"""The ``clusterlearn`` command. Each group of subcommands lives in its own module and
registers itself on :data:`app`; this module only assembles them and maps errors to exit codes.

Exit codes: 0 success, 2 user error (bad file, key, value or option; message, no traceback),
1 internal error (short message; the traceback goes to a log file).
"""

from __future__ import annotations

import datetime
import importlib
import os
import sys
import tempfile
import traceback
from pathlib import Path

import typer

from clusterlearn.errors import ClusterlearnError

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


# Output folder of the running command, for the internal-error log (see set_output_dir).
_output_dir: Path | None = None
ERROR_LOG = "clusterlearn-error.log"


def set_output_dir(path: str | os.PathLike[str] | None) -> None:
    """Tell :func:`main` where the running command writes, so that the traceback of an
    internal error is saved there (as ``clusterlearn-error.log``)."""
    global _output_dir
    _output_dir = Path(path) if path is not None else None


def _write_log(exc: BaseException) -> Path | None:
    """Save the traceback of ``exc`` in the output folder, else in the temp folder."""
    text = (
        f"clusterlearn internal error, {datetime.datetime.now(datetime.UTC).isoformat()}\n"
        f"command: {' '.join(sys.argv)}\n\n" + "".join(traceback.format_exception(exc))
    )
    candidates = []
    if _output_dir is not None and _output_dir.is_dir():
        candidates.append(_output_dir / ERROR_LOG)
    candidates.append(Path(tempfile.gettempdir()) / f"clusterlearn-error-{os.getpid()}.log")
    for path in candidates:
        try:
            path.write_text(text, encoding="utf-8")
            return path
        except OSError:
            continue
    return None


def main() -> None:
    """Entry point of the ``clusterlearn`` console script.

    Usage errors (unknown options, missing arguments) are reported by click with exit code 2;
    a :class:`~clusterlearn.errors.ClusterlearnError` (bad file, key, value or folder) and a
    refused permission print one message and exit 2; anything else is a bug: a short message,
    the traceback saved to a log file, exit 1.
    """
    _load()
    set_output_dir(None)
    try:
        app()  # click's standalone mode: exits itself on success and on usage errors
    except ClusterlearnError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except PermissionError as exc:
        where = f" ({exc.filename})" if exc.filename else ""
        typer.echo(f"error: permission denied{where}: {exc.strerror or exc}", err=True)
        sys.exit(2)
    except Exception as exc:
        log = _write_log(exc)
        saved = f"; the traceback is in {log}" if log else ""
        typer.echo(
            f"internal error: {type(exc).__name__}: {exc}\n"
            f"This is a bug in clusterlearn, not in your input{saved}.",
            err=True,
        )
        sys.exit(1)
