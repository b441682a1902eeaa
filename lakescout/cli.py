"""The `lakescout` command: a thin layer over catalog_ingest, agent and api.

Settings are built here, once, from --config/--data-dir, environment variables and the config file,
and passed down. Every failure a user can cause ends in one clear line and a non-zero exit.
"""

from __future__ import annotations

import atexit
import gc
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from catalog_ingest.settings import Settings
from lakescout.catalog_commands import catalog_app, lake
from lakescout.command_context import console, require_index, settings_of
from lakescout.errors import UserError, errors, fail, reports_errors
from lakescout.teach import teach_app

if TYPE_CHECKING:
    from catalog_ingest.dense_bounds import BoundsWhen

app = typer.Typer(help="lakescout: an assistant that knows your data lake.", no_args_is_help=True, rich_markup_mode=None)
"""Plain help (``rich_markup_mode=None``): typer's rich help prints every flag as taking a value
(``--run <bool>``); the plain formatter shows flags as flags."""
app.add_typer(catalog_app, name="catalog")
app.add_typer(teach_app, name="teach")
app.command()(lake)


@app.callback()
def main_options(
    ctx: typer.Context,
    config: Annotated[Path | None, typer.Option("--config", help="TOML config file (default ./lakescout.toml).")] = None,
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help="Where lake, index and store live.")] = None,
) -> None:
    ctx.obj = {"config_file": config, "data_dir": data_dir}


@app.command("demo-lake")
@reports_errors
def demo_lake(
    ctx: typer.Context,
    scale: Annotated[float, typer.Option(help="Grow fact tables to about this many GB of Parquet (0: a few MB).")] = 0.0,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed builds the same lake.")] = 7,
    glue_endpoint: Annotated[
        str | None, typer.Option(help="Also register part of the lake in Glue at this endpoint (e.g. a moto server).")
    ] = None,
) -> None:
    """Build the sample lake (real Iceberg tables in a local SQL catalog) under the data directory."""
    from sample.build import build_sample_lake
    from sample.layer import install_sample_layer

    settings = settings_of(ctx)
    if scale < 0:
        raise UserError("--scale must be 0 or more (GB of Parquet for the fact tables)")
    with console.status("building the sample lake..."):
        lake = build_sample_lake(settings.lake_dir, scale=scale, seed=seed)
    console.print(f"sample lake: {len(lake.tables)} tables, {lake.total_bytes / 1e6:.1f} MB in {settings.lake_dir}")
    if layer := install_sample_layer(settings.data_dir):
        console.print(f"semantic layer: {layer}")
    if glue_endpoint:
        from sample.glue import register_sample_in_glue

        summary = register_sample_in_glue(endpoint_url=glue_endpoint, seed=seed)
        console.print(f"registered in Glue at {glue_endpoint}: {summary}")


class RichIngestProgress:
    """Ingest progress as a rich progress bar on stderr, one task per catalog, and one that moves while a
    group of tables is embedded."""

    def __init__(self, progress: Any) -> None:
        self.progress = progress
        self.task: Any = None
        self.embedding_task: Any = None

    def start(self, catalog: str, total: int) -> None:
        self.task = self.progress.add_task(f"catalog {catalog}", total=total)

    def advance(self, table: str, status: str) -> None:
        self.progress.update(self.task, advance=1, description=f"{status:9} {table}")

    def embedding(self, done: int, total: int) -> None:
        if self.embedding_task is None:
            self.embedding_task = self.progress.add_task("embedding", total=total)
        self.progress.update(self.embedding_task, completed=done, total=total, description="embedding texts")

    def written(self, documents: int) -> None:
        if self.embedding_task is not None:
            self.progress.update(self.embedding_task, completed=0)


@app.command()
@reports_errors
def ingest(
    ctx: typer.Context,
    full: Annotated[bool, typer.Option("--full", help="Re-crawl and re-embed every table.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Report what would change; write nothing.")] = False,
) -> None:
    """Crawl the configured catalogs into the record store and the index (incremental)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from catalog_ingest.crawlers.base import CatalogUnreachable
    from catalog_ingest.ingest import ingest as run_ingest
    from catalog_ingest.progress import LineProgress
    from lakescout.fresh_start import DataDirSnapshot, unreachable_hint

    settings = settings_of(ctx)
    before = DataDirSnapshot.take(settings)
    try:
        if errors.is_terminal:
            columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
            with Progress(*columns, console=errors, transient=True) as bar:
                report = run_ingest(settings, full=full, dry_run=dry_run, progress=RichIngestProgress(bar))
        else:
            with LineProgress(errors.file, interval=settings.ingest.progress_seconds) as lines:
                report = run_ingest(settings, full=full, dry_run=dry_run, progress=lines)
    except CatalogUnreachable as exc:
        before.remove_what_is_new()
        raise UserError(f"{exc}; {unreachable_hint(settings, before)}", code="catalog_unreachable") from None
    summary = Table(title="ingest" + (" (dry run: nothing written)" if dry_run else ""))
    summary.add_column("result")
    summary.add_column("tables", justify="right")
    for name, count in report.counts().items():
        summary.add_row(name, str(count))
    console.print(summary)
    for table, reason in report.skipped:
        console.print(Text.assemble(("skipped", "yellow"), f" {table}: {reason}"), highlight=False)
    console.print(f"{report.documents_embedded} documents embedded in {report.seconds:.1f}s")
    if report.semantic_stale:
        console.print(Text.assemble(("stale", "yellow"), f" semantic-layer entries a schema change broke (left out): "
                                    f"{', '.join(report.semantic_stale)}; `lakescout teach --stale` shows the fix"),
                      highlight=False)  # fmt: skip


@app.command()
@reports_errors
def search(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help="What you are looking for, in your words.")],
    k: Annotated[int, typer.Option("-k", min=1, max=100, help="How many tables.")] = 5,
    namespace: Annotated[str | None, typer.Option(help="Only this namespace.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Hybrid search over the index: tables with scores and the columns that matched."""
    one_blas_thread()
    from catalog_ingest.retrieval import Retriever

    settings = settings_of(ctx)
    require_index(settings)
    hits = Retriever(settings, bounds="never").search(query, k=k, namespace=namespace)  # one search
    if as_json:
        print(json.dumps([hit.__dict__ for hit in hits], indent=2))
        return
    table = Table(title=f"tables for: {query}")
    for column in ("table", "score", "matched columns"):
        table.add_column(column)
    for hit in hits:
        name = hit.full_name + (f" (also as {', '.join(hit.copies)})" if hit.copies else "")
        table.add_row(Text(name), f"{hit.score:.3f}", Text(", ".join(hit.matched_columns[:6])))
    console.print(table)


BLAS_THREADS = "1"
"""OpenBLAS threads of the commands that search (unless OPENBLAS_NUM_THREADS says otherwise). The server's
concurrent searches' matrix products are batched and run one at a time (``catalog_ingest.dense_batches``), and
a second BLAS thread spins between them: at 10,000 tables with 20 clients one thread cut the server's CPU per
search from 15.0 to 9.3 ms (bench/scale_serve.py's queries, same load). A question's one search is one product:
a second thread cost a cold `lakescout ask` about 0.3 CPU-s there (2.67 against 2.35, loaded)."""


def one_blas_thread() -> None:
    os.environ.setdefault("OPENBLAS_NUM_THREADS", BLAS_THREADS)  # before NumPy loads OpenBLAS


def loading_embedder(settings: Settings) -> Any:
    """The settings' embedder with its model already loading on another core (onnxruntime builds its
    session without the GIL): call before importing the agent or the API, whose imports take about a second."""
    from catalog_ingest.embeddings import embedder_for, start_loading

    embedder = embedder_for(settings.index)
    start_loading(embedder)
    return embedder


def build_agent(settings: Settings, bounds: BoundsWhen) -> Any:
    """The agent over the index; its embedding model loads while the agent's modules import. ``bounds``: when
    dense search builds its score bounds (``dense_bounds.BoundsWhen``): one question searches once or twice."""
    one_blas_thread()
    require_index(settings)
    embedder = loading_embedder(settings)
    from agent.service import LakeAgent

    agent = LakeAgent.from_settings(settings, embedder, bounds)
    gc.freeze()  # the modules and indexes stay for the process: later collections need not walk them
    if (layer := agent.context.semantic).failed:  # one line; the answer goes on without the broken entries
        errors.print(f"warning: semantic layer: {layer.status()}", markup=False, highlight=False, soft_wrap=True)
    return agent


@app.command()
@reports_errors
def ask(
    ctx: typer.Context,
    question: Annotated[str, typer.Argument(help="A question about the lake.")],
    run: Annotated[bool, typer.Option("--run", help="Execute the drafted SQL and print the result.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output (errors too).")] = False,
    thread: Annotated[str | None, typer.Option(help="Continue this conversation thread.")] = None,
) -> None:
    """Answer one question, citing tables; with --run, also run the SQL it drafted."""
    settings = settings_of(ctx)
    agent = build_agent(settings, "never")
    answer = agent.ask(question, thread_id=thread, run=run)
    if as_json:
        print(answer.model_dump_json(indent=2))
    else:
        from rich.markdown import Markdown

        console.print(Markdown(answer.answer))
        if answer.result and not shows_result(answer.answer, answer.result):
            print_result(answer.result)
    if answer.error:
        raise typer.Exit(1)


def shows_result(text: str, result: dict[str, Any]) -> bool:
    """Whether the answer already holds the result as a Markdown table (the offline model writes one)."""
    return "| " + " | ".join(str(column) for column in result["columns"]) + " |" in text


def print_result(result: dict[str, Any]) -> None:
    table = Table(title="result" + (" (truncated)" if result.get("truncated") else ""))
    for column in result["columns"]:
        table.add_column(Text(str(column)))  # Text, not str: rich would read [..] in data as markup
    for row in result["rows"]:
        table.add_row(*(Text("" if v is None else str(v)) for v in row))
    console.print(table)


@app.command()
@reports_errors
def chat(
    ctx: typer.Context,
    thread: Annotated[str | None, typer.Option(help="Resume this thread.")] = None,
) -> None:
    """An interactive conversation with memory; answers stream as they come. Ctrl-D to leave."""
    import asyncio

    from agent.threads import new_thread_id

    settings = settings_of(ctx)
    agent = build_agent(settings, "background")
    thread_id = thread or new_thread_id()
    console.print(f"thread {thread_id} (model: {settings.model.name}); Ctrl-D to leave")

    async def turn(question: str) -> None:
        async for event in agent.astream(question, thread_id=thread_id):
            if event.type == "token":
                console.print(event.data["text"], end="", markup=False, highlight=False)
            elif event.type == "tool_start":
                errors.print(Text(f"→ {event.data['name']}", style="dim"))
            elif event.type == "error":
                errors.print(Text.assemble(("error: ", "red"), str(event.data["message"])))
        console.print()

    while True:
        try:
            question = console.input("[bold]you> [/bold]").strip()
        except EOFError:
            console.print()
            return
        if question:
            asyncio.run(turn(question))


@app.command()
@reports_errors
def serve(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="Bind address (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8321).")] = None,
    workers: Annotated[int | None, typer.Option(help="Worker processes.")] = None,
) -> None:
    """Run the chat API with uvicorn."""
    one_blas_thread()
    settings = settings_of(ctx).with_section("api", host=host, port=port, workers=workers)
    embedder = loading_embedder(settings) if settings.api.workers == 1 else None  # workers load their own
    from api.server import run_server

    run_server(settings, embedder)


@app.command("mcp")
@reports_errors
def mcp_command(
    ctx: typer.Context,
    http: Annotated[bool, typer.Option("--http", help="Serve Streamable HTTP at /mcp instead of stdio.")] = False,
    host: Annotated[str, typer.Option(help="Bind address with --http.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port with --http.")] = 8322,
) -> None:
    """Run lakescout's MCP server: its read-only tools, table resources and prompts for any MCP client.

    Without --http it speaks MCP on stdin/stdout as the local user (what editors start). With --http it
    serves http://HOST:PORT/mcp and the API keys apply (api.api_keys; running SQL: mcp.run_sql_scope).
    """
    from mcp_server.run import serve_http, serve_stdio

    settings = settings_of(ctx)
    require_index(settings)
    if not http:
        serve_stdio(settings)
        return
    from api.auth import KeyRing

    serve_http(settings, KeyRing(settings.api), host, port)


@app.command("eval")
@reports_errors
def eval_command(
    ctx: typer.Context,
    api: Annotated[str | None, typer.Option(help="URL of a running lakescout API (default: start one in-process).")] = None,
    api_key: Annotated[str | None, typer.Option(help="Bearer key for --api.")] = None,
    cases: Annotated[str | None, typer.Option(help="Glob of case files (default: the bundled cases).")] = None,
    concurrency: Annotated[int, typer.Option(min=1, max=64, help="Questions in flight at once.")] = 4,
    out: Annotated[Path | None, typer.Option(help="Report folder (default DATA_DIR/eval).")] = None,
    compare: Annotated[Path | None, typer.Option(help="A previous results.json to compare with.")] = None,
    fast: Annotated[bool, typer.Option("--fast", help="Only the fast gate subset.")] = False,
) -> None:
    """Score the chat endpoints on the eval cases: results.json, summary.md and report.html.

    The suite reports its own failures (bad cases, no server, no index) with the same one ``error:`` line."""
    from evals.cli import run

    code = run(api, api_key, cases, concurrency, out, compare, subset="fast" if fast else None,
               settings=settings_of(ctx), console=errors)
    raise typer.Exit(code)


@app.command()
def doctor(ctx: typer.Context) -> None:
    """Check the setup: config, catalogs, embedding model, index, SQL engine, model endpoint (one line each)."""
    from lakescout.doctor import doctor as run_doctor

    overrides = ctx.find_root().obj
    raise typer.Exit(run_doctor(overrides if isinstance(overrides, dict) else {}, print))


@app.command("api-key")
def api_key_command(
    name: Annotated[str, typer.Argument(help="A name for the key's holder, e.g. vscode or ci.")],
    scope: Annotated[str, typer.Option(help="user (chat, search, SQL) or admin (also ingest).")] = "user",
) -> None:
    """Create an API key: prints the key for the client and the line for the server's config."""
    from api.auth import SCOPES, generate_api_key, hash_api_key

    if scope not in SCOPES:
        fail(f"--scope must be one of {', '.join(SCOPES)}", 2)
    key = generate_api_key()
    print(f"key (give it to the client; it is not stored): {key}")
    print("config (lakescout.toml, under [api.api_keys]):")
    print(f'{name} = "{scope}:{hash_api_key(key)}"')


def main() -> None:
    # Registered first, so it runs last: the interpreter's final collection would walk every object only to
    # find nothing it must free before exit (0.5-0.8 CPU-s of a cold `ask` at 10,000 tables).
    atexit.register(gc.freeze)
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
