"""A small, varied customer population for checking parsed rules by their audience."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from tests.segments.population import Person

AS_OF = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
CITIES = ["Mumbai", "Pune", "Delhi", "New Delhi", "Bengaluru", "Chennai", "Kolkata"]
TAGS = ["vip", "newsletter", "gold", "app-user"]
DOMAINS = ["gmail.com", "yahoo.com", "example.com", "corp.in"]
FIRST = ["Asha", "Ravi", "Priya", "Kumar", "Neha", "Arjun", "Meera", "Vikram", "Sara", "Imran"]
LAST = ["Kumar", "Shah", "Iyer", "Reddy", "Khan", "Nair", "Das", "Mehta"]
AMOUNTS = [0, 50_00, 900_00, 2_500_00, 4_999_00, 5_000_00, 7_500_00, 12_000_00, 25_000_00,
           60_000_00, 1_50_000_00, 2_40_00_000_00]


def people(n: int = 48, seed: int = 6) -> list[Person]:
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        city = None if i % 11 == 10 else CITIES[i % len(CITIES)]
        tags = [t for j, t in enumerate(TAGS) if (i >> j) & 1 and rnd.random() < 0.8]
        order_count = [0, 1, 1, 2, 3, 4, 6, 9][rnd.randrange(8)]
        total = AMOUNTS[rnd.randrange(len(AMOUNTS))] if order_count else 0
        # The newest order: from today back to three years ago, spread out.
        newest_age = [1, 5, 20, 45, 100, 170, 200, 400, 800][rnd.randrange(9)]
        orders = []
        for k in range(order_count):
            share = total // order_count + (total % order_count if k == 0 else 0)
            orders.append((share, AS_OF - timedelta(days=newest_age + 37 * k, hours=3)))
        signup = AS_OF - timedelta(days=[3, 40, 120, 250, 400, 700, 1200][rnd.randrange(7)])
        name = f"{FIRST[i % len(FIRST)]} {LAST[(i * 3) % len(LAST)]}"
        visits = rnd.randrange(0, 25)
        out.append(Person(
            email=f"{name.split()[0].lower()}{i}@{DOMAINS[i % len(DOMAINS)]}",
            name=name,
            phone=None if i % 5 == 4 else f"+91 98{i:08d}",
            city=city,
            signup_date=signup,
            visits=visits,
            last_visit=None if visits == 0 else AS_OF - timedelta(days=rnd.randrange(0, 300)),
            subscribed=rnd.random() < 0.7,
            tags=tags,
            orders=orders,
        ))
    return out
