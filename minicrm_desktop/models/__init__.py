"""ORM models and domain types. Imports nothing from Qt."""

from .audit import AuditEntry
from .base import Base
from .campaign import Campaign, CampaignVariant, Delivery
from .customer import Customer, Tag, customer_tags
from .order import Order
from .segment import Segment
from .user import AllowedDomain, User

__all__ = [
    "AllowedDomain",
    "AuditEntry",
    "Base",
    "Campaign",
    "CampaignVariant",
    "Customer",
    "Delivery",
    "Order",
    "Segment",
    "Tag",
    "User",
    "customer_tags",
]
