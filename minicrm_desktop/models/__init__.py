"""ORM models and domain types. Imports nothing from Qt."""

from .base import Base
from .customer import Customer, Tag, customer_tags
from .order import Order

__all__ = ["Base", "Customer", "Order", "Tag", "customer_tags"]
