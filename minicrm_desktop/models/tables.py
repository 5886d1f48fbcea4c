"""Core `Table` objects of the ORM models, typed for bulk statements."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table

from .audit import audit_table
from .customer import Customer, Tag, customer_tags
from .order import Order
from .trust import database_settings_table, trusted_issuers_table
from .user import allowed_domains_table, users_table

customers_table = cast(Table, Customer.__table__)
orders_table = cast(Table, Order.__table__)
tags_table = cast(Table, Tag.__table__)

__all__ = [
    "allowed_domains_table",
    "audit_table",
    "customer_tags",
    "customers_table",
    "database_settings_table",
    "orders_table",
    "tags_table",
    "trusted_issuers_table",
    "users_table",
]
