"""What revisions share: rebuilding a SQLite table that other tables point at.

SQLite changes a column's default or a CHECK by copying the table (``op.batch_alter_table``), and dropping
the old copy while other tables' foreign keys point at it fails when foreign keys are enforced. Revisions
import this instead of each carrying its own copy; it must keep doing exactly this, since revisions that
already ran depend on it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from alembic import op


@contextmanager
def sqlite_foreign_keys_off() -> Iterator[None]:
    """Foreign keys off around the block on SQLite (a no-op elsewhere), then as the connection had them.

    The PRAGMA only takes effect outside a transaction, hence the autocommit blocks.
    """
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        yield
        return
    enforced = bind.exec_driver_sql("PRAGMA foreign_keys").scalar()
    with op.get_context().autocommit_block():
        bind.exec_driver_sql("PRAGMA foreign_keys=OFF")
    yield
    if enforced:
        with op.get_context().autocommit_block():
            bind.exec_driver_sql("PRAGMA foreign_keys=ON")
