"""The one command line: a sub-command group per stage.

Each stage owns its commands in `<stage>/cli.py` (a Typer app); this module only mounts them
and turns `VnreorgError` into one clear line and a non-zero exit.
"""

from __future__ import annotations

import importlib
import sys

import typer

from vnreorg.errors import VnreorgError, describe_error

app = typer.Typer(help="vnreorg: Vietnamese apparatus-restructuring facts, from news to data.", no_args_is_help=True)

# (module, name, help): each stage's command group.
STAGES = [
    ("vnreorg.corpus.cli", "corpus", "Ingest seeds, validate and export the gold corpus."),
    ("vnreorg.annotation.worksheet_cli", "worksheet", "Annotation worksheets: templates, gold import, agreement."),
    ("vnreorg.annotation.cli", "annotate", "Label Studio server, push and pull, offline conversion."),
    # models/cli.py and eval/cli.py expose top-level commands (train, package, extract, evaluate)
    # through TOP_LEVEL = {"name": function}, and may also have an `app` group.
    ("vnreorg.models.cli", "model", "Predict with a trained model (train, package, extract and cv are top-level commands)."),
    (
        "vnreorg.models.events_cli",
        "events",
        "Restructuring events: normalise, link to official units, cross-check, deduplicate, browse.",
    ),
    ("vnreorg.eval.cli", "eval", "Scoring utilities."),
]


def _mount() -> None:
    for module_name, name, help_text in STAGES:
        module = importlib.import_module(module_name)
        sub = getattr(module, "app", None)
        if sub is not None:
            app.add_typer(sub, name=name, help=help_text)
        for cmd_name, fn in getattr(module, "TOP_LEVEL", {}).items():
            app.command(cmd_name)(fn)


_mount()

from vnreorg import cv as _cv  # noqa: E402
from vnreorg import pipeline as _pipeline  # noqa: E402

app.command("all")(_pipeline.run_all)
app.command("cv")(_cv.cv_command)

from vnreorg import ablate as _ablate  # noqa: E402
from vnreorg.models.cli import app as _model_app  # noqa: E402

_model_app.command("ablate")(_ablate.ablate_command)


def main() -> None:
    """Run the CLI. This is the one place where errors become `error: <where>: <reason>` and exit 2:
    the project's VnreorgError, and OS and parse errors from any command (`describe_error`)."""
    try:
        code = app(standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except (VnreorgError, OSError, ValueError, RecursionError) as exc:
        message = describe_error(exc)
        if message is None:
            raise
        typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
        sys.exit(2)
    except (typer.Exit, SystemExit) as exc:
        code = getattr(exc, "exit_code", None)
        if code is None:
            code = getattr(exc, "code", 0)
        sys.exit(code or 0)
    except typer.Abort:
        typer.echo("aborted", err=True)
        sys.exit(1)
    except Exception as exc:  # click usage errors
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        raise


if __name__ == "__main__":
    main()
