"""The operational store on both of its backends (`JET_DATABASE_URL`): every migration
runs, one by one, on SQLite and on PostgreSQL, carries what an older store holds, ends
at the models' schema, and steps back down."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text

from jet.store.db import alembic_config, engine
from jet.store.models import Base
from tests.peers.postgres import postgres, postgres_url  # noqa: F401 (fixtures)

pytestmark = pytest.mark.integration


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'jet.db'}"
    return request.getfixturevalue("postgres_url")


def _alembic(url: str, step, revision: str) -> None:
    with engine(url).begin() as connection:
        cfg = alembic_config(url)
        cfg.attributes["connection"] = connection
        step(cfg, revision)


def test_every_migration_runs_and_ends_at_the_models(url: str) -> None:
    script = ScriptDirectory.from_config(alembic_config(url))
    revisions = [r.revision for r in script.walk_revisions()]
    assert revisions[-1] == "0001" and len(script.get_heads()) == 1  # branches joined
    for revision in reversed(revisions):
        if revision == "0009":  # a Disconnect queued by the 0004 outbox, not yet sent
            with engine(url).begin() as con:
                con.execute(
                    text(
                        "insert into events (topic, payload, created_at, next_attempt_at) "
                        "values ('radius.disconnect', :payload, :now, :now)"
                    ),
                    {
                        "payload": '{"account": "ann", "status": "suspended"}',
                        "now": datetime.now(UTC),
                    },
                )
        _alembic(url, command.upgrade, revision)
    with engine(url).connect() as con:
        assert compare_metadata(MigrationContext.configure(con), Base.metadata) == []
        carried = con.execute(
            text(
                "select e.topic, e.account_id, d.subscriber, d.status from events e "
                "join event_deliveries d on d.event_id = e.id"
            )
        ).all()
    assert carried == [("account.suspended", "ann", "radius", "pending")]
    _alembic(url, command.downgrade, "base")
    _alembic(url, command.upgrade, "head")
