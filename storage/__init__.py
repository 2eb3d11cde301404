"""The action store: SQLAlchemy models and named queries, Alembic migrations, and the plan importers."""
