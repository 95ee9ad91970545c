"""Alembic environment: the URL comes from Jet's settings, never from an ini file."""

from alembic import context
from sqlalchemy import create_engine

from jet.store.models import Base

config = context.config
connectable = config.attributes.get("connection")


def run() -> None:
    if connectable is not None:
        _migrate(connectable)
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url"))
    with engine.begin() as connection:
        _migrate(connection)


def _migrate(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


run()
