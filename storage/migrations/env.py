"""Alembic runs migrations on the engine edibot hands it (never one built from an ini file).

On SQLite, foreign keys are off while migrations run. A batch migration changes a table by copying it into a
new one, dropping the old and renaming the new; with foreign keys on, dropping the old table first deletes
its rows one by one, and each child row's ON DELETE takes effect (an upgrade through 0006 used to unlink
every reminder from its outbox message, and taking plans back through 0017 deleted every action). The keys
are checked once the migrations are done, in the same transaction, and switched on again.
"""

from __future__ import annotations

from alembic import context

from storage.models import Base

engine = context.config.attributes["engine"]
with engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")  # outside a transaction, or SQLite ignores it
        connection.commit()
    try:
        with connection.begin():
            context.configure(
                connection=connection,
                target_metadata=Base.metadata,
                render_as_batch=sqlite,
            )
            with context.begin_transaction():
                context.run_migrations()
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"the migrations left rows pointing at nothing: {broken[:5]}")
    finally:
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()
