import sqlalchemy as sa

from tests.servers.postgres import PostgresServer


def test_postgres_fixture_serves_queries(postgres: PostgresServer) -> None:
    engine = sa.create_engine(postgres.url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("select 1 + 1")).scalar() == 2
    engine.dispose()
