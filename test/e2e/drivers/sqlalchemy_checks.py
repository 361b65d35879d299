"""SQLAlchemy 1.4 (Debian python3-sqlalchemy, psycopg2 dialect) against a running server:
reflection (the catalog queries of the PostgreSQL dialect), autoload, Core and ORM round trips."""
import datetime
import decimal
import os

import sqlalchemy as sa
from sqlalchemy import orm

from checks import check, eq, finish

url = "postgresql+psycopg2://{u}@{h}:{p}/{d}".format(
    u=os.environ["PGUSER"], h=os.environ["PGHOST"], p=os.environ["PGPORT"], d=os.environ["PGDATABASE"])
engine = sa.create_engine(url, future=True)
auto = engine.execution_options(isolation_level="AUTOCOMMIT")

md = sa.MetaData()
authors = sa.Table(
    "sa_authors", md,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("name", sa.String(80), nullable=False),
    sa.Column("email", sa.Text, unique=True),
)
books = sa.Table(
    "sa_books", md,
    sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("author_id", sa.Integer, nullable=False),
    sa.Column("title", sa.String(200), nullable=False, server_default="untitled"),
    sa.Column("price", sa.Numeric(10, 2)),
    sa.Column("published", sa.Date),
    sa.Column("added", sa.DateTime),
    sa.Column("in_print", sa.Boolean),
    sa.Column("meta", sa.dialects.postgresql.JSONB),
)
idx = sa.Index("sa_books_author_idx", books.c.author_id)


@check("connect")
def _():
    with engine.connect() as c:
        eq(c.execute(sa.text("SELECT 1")).scalar(), 1)


@check("create_all in autocommit")
def _():
    md.drop_all(auto)
    md.create_all(auto)


@check("create_all in a transaction")
def _():
    m2 = sa.MetaData()
    sa.Table("sa_tx", m2, sa.Column("a", sa.Integer))
    m2.drop_all(engine)
    m2.create_all(engine)


@check("inspector: schemas and table names")
def _():
    insp = sa.inspect(engine)
    assert "public" in insp.get_schema_names()
    names = insp.get_table_names()
    assert {"sa_authors", "sa_books"} <= set(names), names
    assert insp.has_table("sa_books")
    assert not insp.has_table("sa_nope")


@check("inspector: get_columns")
def _():
    cols = {c["name"]: c for c in sa.inspect(engine).get_columns("sa_books")}
    eq(list(cols), ["id", "author_id", "title", "price", "published", "added", "in_print", "meta"])
    assert isinstance(cols["id"]["type"], sa.BigInteger), cols["id"]["type"]
    assert isinstance(cols["title"]["type"], sa.String) and cols["title"]["type"].length == 200
    eq((cols["price"]["type"].precision, cols["price"]["type"].scale), (10, 2))
    assert isinstance(cols["published"]["type"], sa.Date)
    assert isinstance(cols["added"]["type"], sa.DateTime)
    assert isinstance(cols["in_print"]["type"], sa.Boolean)
    eq(cols["title"]["nullable"], False)
    eq(cols["price"]["nullable"], True)
    eq(cols["title"]["default"], "'untitled'::character varying")


@check("inspector: get_pk_constraint")
def _():
    pk = sa.inspect(engine).get_pk_constraint("sa_books")
    eq(pk["constrained_columns"], ["id"])
    eq(pk["name"], "sa_books_pkey")


@check("inspector: get_unique_constraints and get_indexes")
def _():
    insp = sa.inspect(engine)
    uq = insp.get_unique_constraints("sa_authors")
    eq([(u["name"], u["column_names"]) for u in uq], [("sa_authors_email_key", ["email"])])
    ix = insp.get_indexes("sa_books")
    eq([(i["name"], i["column_names"], i["unique"]) for i in ix], [("sa_books_author_idx", ["author_id"], False)])


@check("inspector: get_foreign_keys (none)")
def _():
    eq(sa.inspect(engine).get_foreign_keys("sa_books"), [])


@check("inspector: views")
def _():
    with auto.connect() as c:
        c.execute(sa.text("DROP VIEW IF EXISTS sa_cheap"))
        c.execute(sa.text("CREATE VIEW sa_cheap AS SELECT id, title FROM sa_books WHERE price < 10"))
    insp = sa.inspect(engine)
    assert "sa_cheap" in insp.get_view_names()
    assert "sa_cheap" not in insp.get_table_names()
    assert "price < " in insp.get_view_definition("sa_cheap")


@check("autoload a table")
def _():
    t = sa.Table("sa_books", sa.MetaData(), autoload_with=engine)
    eq([c.name for c in t.primary_key.columns], ["id"])
    eq(len(t.columns), 8)
    eq({i.name for i in t.indexes}, {"sa_books_author_idx"})


@check("Core: insert, select, update, delete")
def _():
    with engine.begin() as c:
        c.execute(authors.insert(), [{"id": 1, "name": "Ann", "email": "ann@x"}, {"id": 2, "name": "Bo", "email": None}])
        c.execute(books.insert(), [
            {"id": 10, "author_id": 1, "title": "One", "price": decimal.Decimal("9.99"),
             "published": datetime.date(2024, 2, 29), "added": datetime.datetime(2024, 3, 1, 12, 0),
             "in_print": True, "meta": {"tags": ["a"]}},
        ])
        c.execute(books.insert(), {"id": 11, "author_id": 2, "price": decimal.Decimal("20")})
    with engine.begin() as c:
        c.execute(books.update().where(books.c.id == 11).values(price=decimal.Decimal("19.5")))
        rows = c.execute(sa.select(authors.c.name, books.c.title, books.c.price, books.c.meta)
                         .select_from(books.join(authors, books.c.author_id == authors.c.id))
                         .order_by(books.c.id)).all()
        eq([tuple(r) for r in rows], [("Ann", "One", decimal.Decimal("9.99"), {"tags": ["a"]}),
                                      ("Bo", "untitled", decimal.Decimal("19.50"), None)])
        c.execute(books.delete().where(books.c.id == 11))
        eq(c.execute(sa.select(sa.func.count()).select_from(books)).scalar(), 1)


@check("Core: rollback undoes writes")
def _():
    with engine.connect() as c:
        tx = c.begin()
        c.execute(authors.insert(), {"id": 3, "name": "Cy"})
        tx.rollback()
        eq(c.execute(sa.select(sa.func.count()).select_from(authors)).scalar(), 2)


Base = orm.declarative_base()


class Author(Base):
    __table__ = authors


@check("ORM: add, query, update")
def _():
    with orm.Session(engine) as s:
        s.add(Author(id=5, name="Eve", email="eve@x"))
        s.commit()
    with orm.Session(engine) as s:
        a = s.get(Author, 5)
        eq(a.name, "Eve")
        a.name = "Eva"
        s.commit()
    with orm.Session(engine) as s:
        eq([a.name for a in s.query(Author).filter(Author.id >= 2).order_by(Author.id)], ["Bo", "Eva"])


finish("sqlalchemy")
