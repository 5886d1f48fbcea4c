"""The Qt-free customer queries behind the customers view (no qtbot needed)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from minicrm_desktop.services.access.actor import LOCAL_ADMIN
from minicrm_desktop.services.customers.queries import (
    CustomerQuery,
    count_customers,
    customer_detail,
    export_customers_csv,
    fetch_page,
    fetch_rows,
    ordered_ids,
)


def _sql_ids(engine: Engine, order_by: str, where: str = "1=1", **params: object) -> list[int]:
    with engine.connect() as conn:
        return list(conn.execute(
            text(f"SELECT id FROM customers WHERE {where} ORDER BY {order_by}"), params
        ).scalars())


@pytest.mark.parametrize(("sort", "descending", "order_by"), [
    ("id", False, "id"),
    ("total_spend", True, "total_spend_minor DESC, id DESC"),
    ("order_count", False, "order_count, id"),
    ("name", False, "name_norm IS NULL, name_norm, id"),
    ("city", True, "city_norm IS NULL, city_norm DESC, id DESC"),
])
def test_ordered_ids_follow_sql_sort_with_ties_by_id(
    seeded_engine: Engine, sort: str, descending: bool, order_by: str
) -> None:
    with seeded_engine.connect() as conn:
        ids = ordered_ids(conn, CustomerQuery(sort=sort, descending=descending))
    assert ids is not None
    assert list(ids) == _sql_ids(seeded_engine, order_by)


def test_first_chunk_comes_before_the_rest(seeded_engine: Engine) -> None:
    chunks: list[object] = []
    with seeded_engine.connect() as conn:
        ids = ordered_ids(conn, CustomerQuery(), first_chunk=50, on_first_chunk=chunks.append)
    assert ids is not None
    assert len(chunks) == 1
    assert list(chunks[0]) == list(ids[:50])  # type: ignore[call-overload]


def test_search_matches_substrings_case_insensitively(seeded_engine: Engine) -> None:
    query = CustomerQuery(search="  PRIYA ")
    with seeded_engine.connect() as conn:
        ids = ordered_ids(conn, query)
        n = count_customers(conn, query)
    expected = _sql_ids(
        seeded_engine, "id",
        "name_norm LIKE :p OR email_norm LIKE :p OR phone_norm LIKE :p OR city_norm LIKE :p",
        p="%priya%",
    )
    assert ids is not None
    assert list(ids) == expected
    assert n == len(expected) > 0


def test_search_text_is_a_bound_literal(seeded_engine: Engine) -> None:
    """LIKE wildcards and quotes in the search are matched literally, never as SQL."""
    with seeded_engine.connect() as conn:
        assert count_customers(conn, CustomerQuery(search="%")) == 0
        assert count_customers(conn, CustomerQuery(search="_")) == 0
        assert count_customers(conn, CustomerQuery(search="' OR 1=1 --")) == 0
        assert count_customers(conn, CustomerQuery(search="")) == 3000


def test_unknown_sort_is_refused() -> None:
    with pytest.raises(ValueError, match="cannot sort"):
        CustomerQuery(sort="password")


def test_rows_by_id_keep_the_order_asked(seeded_engine: Engine) -> None:
    with seeded_engine.connect() as conn:
        rows = fetch_rows(conn, [30, 10, 20, 999_999])
        page = fetch_page(conn, CustomerQuery(sort="total_spend", descending=True), 0, 5)
    assert [r.id for r in rows] == [30, 10, 20]
    assert [r.id for r in page] == _sql_ids(
        seeded_engine, "total_spend_minor DESC, id DESC")[:5]


def test_detail_has_orders_tags_and_aggregates(seeded_engine: Engine) -> None:
    with seeded_engine.connect() as conn:
        cid = conn.execute(text(
            "SELECT c.id FROM customers c WHERE order_count >= 3 AND EXISTS "
            "(SELECT 1 FROM customer_tags t WHERE t.customer_id = c.id) ORDER BY id LIMIT 1"
        )).scalar_one()
        orders = conn.execute(text(
            "SELECT order_id, amount_minor FROM orders WHERE customer_id = :c "
            "ORDER BY order_date DESC, id DESC"), {"c": cid}).all()
        tag_names = conn.execute(text(
            "SELECT t.name FROM tags t JOIN customer_tags ct ON ct.tag_id = t.id "
            "WHERE ct.customer_id = :c ORDER BY t.name_norm"), {"c": cid}).scalars().all()
        detail = customer_detail(conn, cid)
        missing = customer_detail(conn, 10**9)
    assert missing is None
    assert detail is not None
    assert [(o.order_id, o.amount_minor) for o in detail.orders] == [tuple(o) for o in orders]
    assert list(detail.tags) == tag_names
    assert detail.orders_total == len(orders) == detail.customer.order_count
    assert detail.customer.total_spend_minor == sum(o[1] for o in orders)
    assert detail.orders[0].order_date.tzinfo is not None


def test_export_streams_the_view_in_order(seeded_engine: Engine, tmp_path: Path) -> None:
    query = CustomerQuery(search="mumbai", sort="total_spend", descending=True)
    target = tmp_path / "view.csv"
    progress: list[tuple[int, int]] = []
    written = export_customers_csv(seeded_engine, query, target, batch_size=100,
                                   progress=lambda d, t: progress.append((d, t)))
    with target.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    with seeded_engine.connect() as conn:
        ids = ordered_ids(conn, query)
        assert ids is not None
        emails = [r.email for r in fetch_rows(conn, list(ids))]
    assert written == len(rows) == len(emails) > 100
    assert [r["email"] for r in rows] == emails
    assert progress[-1] == (written, written)
    spends = [float(r["total_spend"]) for r in rows]
    assert spends == sorted(spends, reverse=True)
    assert not (tmp_path / "view.csv.part").exists()


def test_cancelled_export_leaves_no_file(seeded_engine: Engine, tmp_path: Path) -> None:
    target = tmp_path / "view.csv"
    result = export_customers_csv(seeded_engine, CustomerQuery(), target, batch_size=100,
                                  should_cancel=lambda: True)
    assert result is None
    assert not target.exists()
    assert not (tmp_path / "view.csv.part").exists()


def test_queries_agree_on_both_engines(engine: Engine, tmp_path: Path) -> None:
    """The driver-level id read, search and export on SQLite and MariaDB alike."""
    from minicrm_desktop.services.customers.seed import seed_demo_data

    from .conftest import SEED_ANCHOR

    seed_demo_data(engine, 300, seed=5, anchor=SEED_ANCHOR, actor=LOCAL_ADMIN)
    query = CustomerQuery(search="a", sort="total_spend", descending=True)
    with engine.connect() as conn:
        chunks: list[object] = []
        ids = ordered_ids(conn, query, first_chunk=10, on_first_chunk=chunks.append,
                          chunk_size=7)
        expected = list(conn.execute(text(
            "SELECT id FROM customers WHERE name_norm LIKE :p OR email_norm LIKE :p OR "
            "phone_norm LIKE :p OR city_norm LIKE :p ORDER BY total_spend_minor DESC, id DESC"
        ), {"p": "%a%"}).scalars())
        assert count_customers(conn, query) == len(expected)
        assert count_customers(conn, CustomerQuery(search="%")) == 0
    assert ids is not None
    assert list(ids) == expected
    assert len(chunks) == 1
    target = tmp_path / "both.csv"
    assert export_customers_csv(engine, query, target, batch_size=50) == len(expected)
