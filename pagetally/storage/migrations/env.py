"""Alembic's environment: the connection comes from `pagetally.storage.migrate`."""

from __future__ import annotations

from alembic import context

from pagetally.storage.schema import for_dialect, metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only programmatic use is supported
    raise RuntimeError("run migrations through pagetally.storage.migrate (pagetally db upgrade)")

for_dialect(connection.dialect.name)
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
