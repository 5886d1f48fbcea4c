"""ORM models and domain types. Imports nothing from Qt."""

from .base import Base
from .campaign import Campaign, CampaignVariant, Delivery
from .customer import Customer, Tag, customer_tags
from .order import Order
from .segment import Segment

__all__ = [
    "Base",
    "Campaign",
    "CampaignVariant",
    "Customer",
    "Delivery",
    "Order",
    "Segment",
    "Tag",
    "customer_tags",
]
