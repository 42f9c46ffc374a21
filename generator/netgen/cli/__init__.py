"""The `netgen` command: a thin shell over the library API, mapping outcomes to exit codes.

Exit codes are a contract (Makefiles depend on them): see :class:`.exits.ExitCode`.
"""

from __future__ import annotations

import enum
import json
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, NoReturn

import typer

import netgen
from netgen.cli.exits import ExitCode
from netgen.cli.files import write_file
from netgen.cli.reporters import REPORTERS
from netgen.cli.terraform import respond as terraform_response
from netgen.cli.uptodate import RenderRequest, finish_if_up_to_date, parse_render
from netgen.diagnostics import Diagnostic, has_errors
from netgen.errors import DiagnosticsError, NetgenError, OutputError, UsageError
from netgen.write import remember

# `netgen` imports the pipeline, the code table and the schemas only in the commands that
# use them, so `netgen --help` and a render that finds OUT up to date start fast


class Format(enum.StrEnum):
    TEXT = "text"
    JSON = "json"
    GITHUB = "github"


app = typer.Typer(
    name="netgen",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

InventoryArg = Annotated[Path, typer.Argument(help="The inventory YAML file.", show_default=False, metavar="INVENTORY")]
FactsOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--facts",
        help="Facts file or directory (talosctl get links -o yaml, ip -j link, Ansible setup); repeatable.",
        metavar="PATH",
    ),
]
StrictOpt = Annotated[bool, typer.Option("--strict", help="Treat warnings as errors.")]
FormatOpt = Annotated[Format, typer.Option("--format", help="Diagnostics format; json goes to stdout.")]


class _Debug:
    """Whether --debug was given: main() shows the traceback of an internal error then."""

    enabled = False


def _set_debug(value: bool) -> None:
    _Debug.enabled = _Debug.enabled or value


DebugOpt = Annotated[
    bool, typer.Option("--debug", callback=_set_debug, is_eager=True, help="Show a traceback on internal errors.")
]


def _report(diagnostics: Sequence[Diagnostic], output_format: Format) -> None:
    text = REPORTERS[output_format](diagnostics)
    if output_format is Format.JSON:
        sys.stdout.write(text)
    elif text:
        sys.stderr.write(text)


def _fail(message: str, code: int) -> NoReturn:
    typer.echo(f"netgen: error: {message}", err=True)
    raise typer.Exit(code)


# below this many hosts a render takes well under a second: no progress bar
PROGRESS_MIN_HOSTS = 500


def progress_bar(loaded: netgen.Inventory) -> Callable[[int, int], None] | None:
    """A progress line on stderr for long renders on a terminal; never in CI logs or pipes."""
    hosts = sum(len(cluster.hosts) for cluster in loaded.clusters)
    if hosts < PROGRESS_MIN_HOSTS or os.environ.get("CI") or not sys.stderr.isatty():
        return None

    def report(done: int, total: int) -> None:
        sys.stderr.write(f"\rnetgen: rendering cluster {done}/{total}" if done < total else "\r\033[K")
        sys.stderr.flush()

    return report


def _strict_failure(diagnostics: Sequence[Diagnostic], strict: bool) -> bool:
    return has_errors(list(diagnostics)) or (strict and bool(diagnostics))


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"netgen {netgen.__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool | None,
        typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version and exit."),
    ] = None,
    debug: DebugOpt = False,
) -> None:
    """Render network config for Talos, Multus, MetalLB and vcluster from one inventory, all checked first."""


@app.command()
def render(
    inventory: InventoryArg,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output directory.", show_default=False, metavar="OUT")],
    facts: FactsOpt = None,
    cluster: Annotated[
        list[str] | None,
        typer.Option("--cluster", help="Render (and compare) only this cluster; repeatable.", metavar="NAME"),
    ] = None,
    check: Annotated[
        bool, typer.Option("--check", help="Write nothing; print a diff and exit 3 if OUT differs.")
    ] = False,
    strict: StrictOpt = False,
    output_format: FormatOpt = Format.TEXT,
    templates: Annotated[
        Path | None,
        typer.Option("--templates", help="Directory of template overrides.", show_default=False, metavar="DIR"),
    ] = None,
    debug: DebugOpt = False,
) -> None:
    """Render every artifact of INVENTORY into OUT (atomically; unchanged files are left alone)."""
    clusters = tuple(cluster) if cluster else None
    request = RenderRequest(inventory, out, tuple(facts or ()), clusters, templates, check, output_format)
    record = request.fingerprint()
    if finish_if_up_to_date(request, record):
        return
    try:
        loaded = netgen.load(inventory, facts=facts or [])
        rendering = netgen.render(
            loaded, clusters=cluster or None, templates=templates, progress=progress_bar(loaded), previous=out
        )
    except DiagnosticsError as error:
        _report(error.diagnostics, output_format)
        raise typer.Exit(ExitCode.INPUT) from None
    _report(rendering.warnings, output_format)
    if _strict_failure(rendering.warnings, strict):
        _fail("warnings are errors under --strict; nothing was written", ExitCode.INPUT)
    result = netgen.write(rendering, out, check=check)
    if check:
        (sys.stderr if output_format is Format.JSON else sys.stdout).write(result.diff)
        raise typer.Exit(ExitCode.DRIFT if result.changed else ExitCode.OK)
    # nothing to report, and the overrides and code read before the render are still what
    # it ran with (the inputs the manifest records are compared when the record is used)
    if record is not None and not rendering.warnings and request.fingerprint() == record:
        remember(out, record.digest, len(result.created) + len(result.updated) + len(result.unchanged))
    if output_format is Format.TEXT:
        typer.echo(
            f"netgen: {out}: {len(result.created)} created, {len(result.updated)} updated, "
            f"{len(result.removed)} removed, {len(result.unchanged)} unchanged",
            err=True,
        )


@app.command()
def validate(
    inventories: Annotated[
        list[Path], typer.Argument(help="Inventory YAML files.", show_default=False, metavar="INVENTORY...")
    ],
    facts: FactsOpt = None,
    strict: StrictOpt = False,
    output_format: FormatOpt = Format.TEXT,
    debug: DebugOpt = False,
) -> None:
    """Check each INVENTORY and report every problem; write nothing."""
    if facts and len(inventories) > 1:
        _fail("--facts describes the hosts of one inventory; validate one inventory at a time with it", ExitCode.USAGE)
    diagnostics: list[Diagnostic] = []
    for inventory in inventories:
        try:
            diagnostics += netgen.validate(netgen.load(inventory, facts=facts or []))
        except DiagnosticsError as error:
            diagnostics += error.diagnostics
    _report(diagnostics, output_format)
    if _strict_failure(diagnostics, strict):
        raise typer.Exit(ExitCode.INPUT)


@app.command()
def init(
    path: Annotated[
        Path, typer.Argument(help="The file to write; - prints the inventory to stdout.", metavar="PATH")
    ] = Path("inventory.yaml"),
    force: Annotated[bool, typer.Option("--force", help="Overwrite PATH if it exists.")] = False,
) -> None:
    """Write a commented starter inventory that renders as it is (default PATH: inventory.yaml)."""
    import re  # noqa: PLC0415 (see the imports)

    from netgen.resources import resource_dir  # noqa: PLC0415

    starter = (resource_dir("templates") / "init" / "inventory.yaml").read_text(encoding="utf-8")
    if str(path) == "-":
        sys.stdout.write(starter)
        return
    if re.fullmatch(r"[A-Za-z0-9._/+-]+", str(path)):
        # the commands in the starter's header name the file it is in
        starter = starter.replace(" inventory.yaml", f" {path}")
    write_file(path, starter.encode("utf-8"), replace=force)
    typer.echo(f"netgen: wrote {path}; put in your hosts' MACs and addresses, then `netgen validate {path}`", err=True)


class GraphFormat(enum.StrEnum):
    MERMAID = "mermaid"
    SVG = "svg"
    HTML = "html"


@app.command()
def graph(
    inventory: InventoryArg,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="File to write (.mmd, .md, .svg, .html); default: stdout.",
            show_default=False,
            metavar="FILE",
        ),
    ] = None,
    graph_format: Annotated[
        GraphFormat | None,
        typer.Option("--format", help="Default: from FILE's suffix, else mermaid.", show_default=False),
    ] = None,
    facts: FactsOpt = None,
    cluster: Annotated[
        list[str] | None, typer.Option("--cluster", help="Draw only this cluster; repeatable.", metavar="NAME")
    ] = None,
    debug: DebugOpt = False,
) -> None:
    """Draw each cluster's hosts, links, networks, VIPs, MetalLB and attachments (docs/graph.md)."""
    from netgen import graph as topology  # noqa: PLC0415 (see the imports)
    from netgen.graph.output import choose_format, draw  # noqa: PLC0415

    output_format = choose_format(graph_format.value if graph_format is not None else None, out)
    try:
        loaded = netgen.load(inventory, facts=facts or [])
        diagnostics = netgen.validate(loaded)
    except DiagnosticsError as error:
        _report(error.diagnostics, Format.TEXT)
        raise typer.Exit(ExitCode.INPUT) from None
    _report(diagnostics, Format.TEXT)
    if has_errors(diagnostics):
        raise typer.Exit(ExitCode.INPUT)
    text = draw(topology.build(loaded, cluster or None), output_format, title=topology.title_of(loaded), out=out)
    data = text.encode("utf-8")  # what every format declares, whatever the locale
    if out is None:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    write_file(out, data)
    typer.echo(f"netgen: wrote {out}", err=True)


@app.command()
def schema() -> None:
    """Print the inventory JSON Schema (for `# yaml-language-server: $schema=` lines)."""
    from netgen.load.structure import inventory_schema  # noqa: PLC0415 (see the imports)

    typer.echo(json.dumps(inventory_schema(), indent=2))


@app.command()
def explain(
    code: Annotated[str | None, typer.Argument(help="A diagnostic code such as NG104.", show_default=False)] = None,
) -> None:
    """Explain what a diagnostic code means and how to fix it (without CODE: list all codes)."""
    from netgen.codes import explain as explain_code  # noqa: PLC0415 (see the imports)
    from netgen.codes import listing  # noqa: PLC0415

    if code is None:
        typer.echo(listing(), nl=False)
        return
    text = explain_code(code)
    if text is None:
        _fail(f"unknown diagnostic code {code!r}; `netgen explain` lists them", ExitCode.USAGE)
    typer.echo(text, nl=False)


@app.command()
def terraform() -> None:
    """Terraform's external data source: a JSON query on stdin, {path: text} on stdout (docs/terraform.md)."""
    if sys.stdin.isatty():
        _fail(
            "netgen terraform reads a JSON query on stdin, as Terraform's external data source sends it", ExitCode.USAGE
        )
    response = terraform_response(sys.stdin.buffer.read())
    sys.stdout.write(response.stdout)
    sys.stderr.write(response.stderr)
    raise typer.Exit(response.exit_code)


def main() -> None:
    """Entry point: run the app and turn every failure into its exit code, never a traceback."""
    _Debug.enabled = False
    try:
        # a render that would change nothing is done before the parser starts (see .uptodate)
        request = parse_render(sys.argv[1:])
        if request is None or not finish_if_up_to_date(request, request.fingerprint()):
            app()
    except UsageError as error:
        _print_error(str(error))
        sys.exit(ExitCode.USAGE)
    except (OutputError, NetgenError) as error:
        _print_error(str(error))
        sys.exit(ExitCode.INPUT)
    except (KeyboardInterrupt, BrokenPipeError):
        sys.exit(ExitCode.INTERRUPTED)
    except Exception as error:
        if _Debug.enabled:
            traceback.print_exc()
        _print_error(
            f"internal error ({type(error).__name__}: {error}); this is a bug in netgen {netgen.__version__}: "
            "please report it with the inventory that caused it (rerun with --debug for the traceback)"
        )
        sys.exit(ExitCode.INTERNAL)


def _print_error(message: str) -> None:
    sys.stderr.write(f"netgen: error: {message}\n")
