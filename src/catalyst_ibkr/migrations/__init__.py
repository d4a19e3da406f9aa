"""Alembic migrations of the journal, shipped inside the package.

Run automatically by `catalyst_ibkr.service.journal.migrate` on service start; the alembic
CLI works too: `alembic -c src/catalyst_ibkr/migrations/alembic.ini -x db_url=URL upgrade head`.
"""
