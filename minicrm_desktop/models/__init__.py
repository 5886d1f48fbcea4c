"""ORM models and domain types. Imports nothing from Qt."""

from .audit import AuditEntry
from .base import Base
from .campaign import Campaign, CampaignVariant, Delivery
from .customer import Customer, Tag, customer_tags
from .order import Order
from .segment import Segment
from .trust import DatabaseSetting, TrustedIssuer
from .user import AllowedDomain, User

__all__ = [
    "AllowedDomain",
    "AuditEntry",
    "Base",
    "Campaign",
    "CampaignVariant",
    "Customer",
    "DatabaseSetting",
    "Delivery",
    "Order",
    "Segment",
    "Tag",
    "TrustedIssuer",
    "User",
    "customer_tags",
]
