"""``window-client catalog``: list and search the service catalogue."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from models.catalog import Acceptable
from window_client.cli.common import out, print_json, runtime, shown
from window_client.services.catalog import contract

app = typer.Typer(help="List and search the service items and 一件事 packages.", no_args_is_help=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print the DESIGN.md §6 JSON form.")]
AllOption = Annotated[
    bool, typer.Option("--all", help="Every item of the catalogue, not only this station's.")
]


@app.command("list")
def list_items(json_output: JsonOption = False, every: AllOption = False) -> None:
    """List the items and packages this station accepts."""
    with runtime() as rt:
        entries: list[Acceptable] = (
            [*rt.catalog.items.values(), *rt.catalog.packages.values()]
            if every
            else rt.catalog.acceptable_at(rt.station)
        )
        if json_output:
            print_json(contract(entries))
            return
        table = Table("编码", "事项名称", "类型", "承诺时限", title=f"{shown(rt.station.name)} 可受理事项")
        for entry in entries:
            kind = "一件事" if entry.is_package else ("即办件" if entry.kind.value == "instant" else "承诺件")
            table.add_row(shown(entry.code), shown(entry.name), kind, entry.promised.zh())
        out.print(table)


@app.command("search")
def search(
    query: Annotated[str, typer.Argument(help="Chinese text, full pinyin or initials, e.g. bdcdj.")],
    json_output: JsonOption = False,
    limit: Annotated[int, typer.Option(min=1, max=500, help="At most this many results.")] = 20,
) -> None:
    """Find items and packages by Chinese text, full pinyin or pinyin initials, best first."""
    with runtime() as rt:
        found = rt.search.search(query, limit)
        if json_output:
            print_json(contract(found))
            return
        if not found:
            out.print(f"没有找到与“{shown(query)}”匹配的事项")
            return
        table = Table("编码", "事项名称", "承诺时限")
        for entry in found:
            table.add_row(shown(entry.code), shown(entry.name), entry.promised.zh())
        out.print(table)
