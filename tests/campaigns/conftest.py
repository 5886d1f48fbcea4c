"""Campaign fixtures: a small population and a launched campaign on either engine."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from minicrm_desktop.models.campaign import Channel
from minicrm_desktop.models.rules import parse_rule
from minicrm_desktop.services.access.actor import LOCAL_ADMIN
from minicrm_desktop.services.campaigns.launch import CampaignDraft
from minicrm_desktop.services.campaigns.vendor import VendorConfig
from minicrm_desktop.services.importing import import_customers
from tests.helpers import write_csv

POPULATION = "email,name,phone,city,subscribed,signup_date\n" + "".join(
    f"user{i}@example.com,Name{i} Last,{'' if i % 10 == 3 else f'+91 9000 {i:05d}'},"
    f"{'' if i % 7 == 0 else 'Pune'},{'no' if i % 10 == 9 else 'yes'},2024-01-01\n"
    for i in range(200)
)


@pytest.fixture
def population(engine: Engine, tmp_path: Path) -> Engine:
    """200 customers: every 10th (i % 10 == 9) unsubscribed, i % 10 == 3 without a phone."""
    import_customers(engine, write_csv(tmp_path / "people.csv", POPULATION), actor=LOCAL_ADMIN)
    return engine


@pytest.fixture
def ledger_path(tmp_path: Path) -> Path:
    return tmp_path / "vendor-ledger.db"


def draft(**overrides: object) -> CampaignDraft:
    values: dict[str, object] = {
        "name": "Spring sale",
        "channel": Channel.EMAIL,
        "rule": parse_rule({"combinator": "and", "rules": []}),
        "variants": ["Hi {first_name|there}!", "Hello {name}, from {city|us}"],
        "vendor": VendorConfig(success_rate=0.9, seed=3),
    }
    values.update(overrides)
    return CampaignDraft(**values)  # type: ignore[arg-type]

