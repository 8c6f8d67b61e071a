"""Alembic environment: runs on the connection StateStore hands over (or a URL for the CLI)."""

from alembic import context
from sqlalchemy import create_engine

from connectors.state.models import Base

config = context.config
target_metadata = Base.metadata


def run() -> None:
    conn = config.attributes.get("connection")
    if conn is None:  # e.g. `alembic -x url=sqlite:///var/lapak.db revision --autogenerate`
        engine = create_engine(context.get_x_argument(as_dictionary=True)["url"])
        with engine.begin() as conn:
            context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
            with context.begin_transaction():
                context.run_migrations()
        return
    context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


run()
