"""Alembic migrations of the PageTally schema (run by `pagetally.storage.migrate`)."""
