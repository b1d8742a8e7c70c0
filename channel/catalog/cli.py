"""``flask --app app channel catalog-import FILE``: load or refresh the product catalogue from a file."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("catalog-import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def catalog_import_command(file: Path) -> None:
    """Create or update products from a CSV or XLSX file (idempotent by SKU); exit 1 if any row is rejected."""
    from channel.catalog.importer import ImportFileError, ImportRaced, import_products

    try:
        report = import_products(file.read_bytes(), actor="cli")
    except (ImportFileError, ImportRaced) as error:
        raise click.ClickException(str(error)) from None
    click.echo(
        f"rows read {report.rows_read}: created {report.created}, updated {report.updated}, "
        f"unchanged {report.unchanged}, rejected {len(report.rejected)}"
    )
    for rejection in report.rejected:
        click.echo(f"row {rejection.row} ({rejection.sku or 'no SKU'}): {rejection.reason}", err=True)
    if report.rejected:
        raise click.exceptions.Exit(1)


COMMANDS = (catalog_import_command,)
