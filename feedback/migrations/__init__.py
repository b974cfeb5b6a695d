"""Alembic owns the schema. `feedback db upgrade` and `feedback serve` run these migrations."""
