"""CSV import of orders and the customer aggregates it maintains, on both engines."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from minicrm_desktop.errors import ImportFileError
from minicrm_desktop.services.access.actor import LOCAL_ADMIN
from minicrm_desktop.services.importing import import_customers, import_orders
from tests.helpers import assert_aggregates_consistent, snapshot, write_csv

CUSTOMERS = "email\nasha@example.com\nraj@example.com\nzoe@example.com\n"
ORDERS = """order_id,customer_email,amount,order_date
A-1,asha@example.com,1500,2025-01-10
A-2,ASHA@example.com,250.5,2025-06-01T18:45:00+05:30
R-1,raj@example.com,0.05,2024-12-31T23:59:59Z
"""


@pytest.fixture
def with_customers(engine: Engine, tmp_path: Path) -> Engine:
    import_customers(engine, write_csv(tmp_path / "customers.csv", CUSTOMERS), actor=LOCAL_ADMIN)
    return engine


def aggregates(engine: Engine) -> dict[str, tuple[object, ...]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT email_norm, total_spend_minor, order_count, first_order_at, last_order_at "
                "FROM customers"
            )
        )
        return {r[0]: tuple(r[1:]) for r in rows}


def test_orders_import_and_aggregates(with_customers: Engine, tmp_path: Path) -> None:
    report = import_orders(with_customers, write_csv(tmp_path / "o.csv", ORDERS), actor=LOCAL_ADMIN)
    assert (report.imported, report.updated, report.rejected) == (3, 0, [])
    from sqlalchemy.orm import Session

    from minicrm_desktop.models import Customer

    with Session(with_customers) as session:
        asha = session.query(Customer).filter_by(email_norm="asha@example.com").one()
        assert asha.total_spend_minor == 175050
        assert asha.order_count == 2
        assert asha.first_order_at == datetime(2025, 1, 10, tzinfo=UTC)
        assert asha.last_order_at == datetime(2025, 6, 1, 13, 15, tzinfo=UTC)
        assert asha.avg_order_value_minor == 87525
        zoe = session.query(Customer).filter_by(email_norm="zoe@example.com").one()
        assert (zoe.total_spend_minor, zoe.order_count, zoe.last_order_at) == (0, 0, None)
        assert zoe.avg_order_value_minor is None
    assert_aggregates_consistent(with_customers)


def test_reimport_identical(with_customers: Engine, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "o.csv", ORDERS)
    import_orders(with_customers, path, actor=LOCAL_ADMIN)
    first = snapshot(with_customers)
    report = import_orders(with_customers, path, actor=LOCAL_ADMIN)
    assert (report.imported, report.updated, report.unchanged) == (0, 0, 3)
    assert snapshot(with_customers) == first


def test_reimport_changing_amount_and_customer(with_customers: Engine, tmp_path: Path) -> None:
    import_orders(with_customers, write_csv(tmp_path / "o1.csv", ORDERS), actor=LOCAL_ADMIN)
    changed = (
        "order_id,customer_email,amount,order_date\n"
        "A-1,asha@example.com,99.99,2025-01-10\n"  # amount changed
        "R-1,zoe@example.com,0.05,2024-12-31T23:59:59Z\n"  # raj's only order moves to zoe
    )
    report = import_orders(with_customers, write_csv(tmp_path / "o2.csv", changed),
        actor=LOCAL_ADMIN)
    assert report.updated == 2
    agg = aggregates(with_customers)
    assert agg["asha@example.com"][:2] == (9999 + 25050, 2)
    assert agg["raj@example.com"] == (0, 0, None, None)
    assert agg["zoe@example.com"][:2] == (5, 1)
    assert_aggregates_consistent(with_customers)


def test_bad_order_rows(with_customers: Engine, tmp_path: Path) -> None:
    content = (
        "order_id,customer_email,amount,order_date\n"
        "X-1,asha@example.com,1,000,2025-01-01\n"
        '"X-2",asha@example.com,"1,000",2025-01-01\n'
        "X-3,asha@example.com,₹100,2025-01-01\n"
        "X-4,asha@example.com,-5,2025-01-01\n"
        "X-5,asha@example.com,10.555,2025-01-01\n"
        "X-6,nobody@example.com,10,2025-01-01\n"
        "X-7,asha@example.com,10,yesterday\n"
        ",asha@example.com,10,2025-01-01\n"
        "X-9,asha@example.com,,2025-01-01\n"
        "X-10,asha@example.com,10.5,2025-01-01\n"
    )
    report = import_orders(with_customers, write_csv(tmp_path / "o.csv", content),
        actor=LOCAL_ADMIN)
    assert report.imported == 1
    assert [(r.line, r.column) for r in report.rejected] == [
        (2, None),
        (3, "amount"),
        (4, "amount"),
        (5, "amount"),
        (6, "amount"),
        (7, "customer_email"),
        (8, "order_date"),
        (9, "order_id"),
        (10, "amount"),
    ]
    assert "nobody@example.com" in report.rejected[5].reason
    assert aggregates(with_customers)["asha@example.com"][:2] == (1050, 1)


def test_orders_need_every_column(sqlite_engine: Engine, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "o.csv", "order_id,customer_email,amount\n1,a@example.com,5\n")
    with pytest.raises(ImportFileError, match="required column 'order_date' is missing"):
        import_orders(sqlite_engine, path, actor=LOCAL_ADMIN)


def test_many_batches_keep_aggregates_exact(with_customers: Engine, tmp_path: Path) -> None:
    emails = ["asha@example.com", "raj@example.com", "zoe@example.com"]
    rows = "".join(
        f"O-{i},{emails[i % 3]},{i}.{i % 100:02d},2025-{1 + i % 12:02d}-{1 + i % 28:02d}T"
        f"{i % 24:02d}:00:00Z\n"
        for i in range(3000)
    )
    path = write_csv(tmp_path / "o.csv", "order_id,customer_email,amount,order_date\n" + rows)
    report = import_orders(with_customers, path, batch_size=700, actor=LOCAL_ADMIN)
    assert report.imported == 3000
    assert_aggregates_consistent(with_customers)
    expected = sum(i * 100 + i % 100 for i in range(0, 3000, 3))
    assert aggregates(with_customers)["asha@example.com"][:2] == (expected, 1000)
