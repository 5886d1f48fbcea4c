"""The offline sentence parser: clause by clause, every word accounted for.

A sentence is read from left to right as clauses joined by and/or/but/commas/"who", each
optionally negated (not, don't, haven't, never, no, without, except). Each clause must match
one of the patterns below completely; a word no pattern accepts ends the parse with a
message naming it, so a sentence is either understood entirely or refused, never guessed.
"and" binds tighter than "or", as in speech: "in Pune and vip or in Delhi" is
(Pune and vip) or Delhi.

Over 400 lines on purpose: the clause patterns are one grammar read top to bottom; the
vocabulary and number words already live beside it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from ....models.rules import RuleError, RuleGroup, parse_rule
from ....models.rules_fields import COMPLEMENTS, MONEY_FIELDS
from ..errors import NotUnderstood
from .dates import read_period
from .numbers import TIMES_WORDS, read_amount, read_comparison, read_count
from .vocabulary import Vocabulary

Node = dict[str, Any]
#: Fields never empty: an ordered comparison's complement is the opposite comparison.
NEVER_EMPTY = frozenset({"total_spend", "order_count", "visits", "signup_date"})
_FLIP = {">": "<=", ">=": "<", "<": ">=", "<=": ">"}
MAX_SENTENCE = 500
NO_SENTENCE = 'type a sentence such as "spent over ₹5,000 and live in Mumbai"'


def _c(pattern: str) -> re.Pattern[str]:
    return re.compile(r"\s*(?:" + pattern + r")(?![\w'-])")


_PREFIX = _c(
    r"(?:please\s+)?(?:(?:show|find|list|get|give|select|target|fetch)(?:\s+me)?|"
    r"i\s+want|we\s+want|segment\s+of|audience\s+of)"
)
_CONNECTOR = _c(
    r",|;|and|&|but|or|who|that|whose|which|also|plus|yet|as\s+well\s+as|with|having|"
    r"customers?|users?|people|shoppers?|clients?|members?|buyers?|contacts?|ones|those|they|"
    r"everyone|anyone|have|has|had|are|is|were|was|do|does|did|been|ever|already|still|both|"
    r"either|all|any|every|the|our|only|currently"
)
_OR = re.compile(r"\bor\b")
_NEGATION = _c(
    r"not|haven't|hasn't|hadn't|aren't|isn't|weren't|wasn't|don't|doesn't|didn't|"
    r"havent|hasnt|dont|doesnt|didnt|no\s+longer|no|without|outside|"
    r"(?:except|excluding|other\s+than|apart\s+from)(?:\s+for)?"
    r"(?:\s+(?:those|customers|people|ones|users))?(?:\s+(?:who|that|in|from))?"
)

# --- the subjects of clauses -----------------------------------------------------------
_OBJECTS = (r"(?:\s+(?:anything|something|with\s+us|from\s+us|online|at\s+(?:our|the)\s+"
            r"(?:store|shop)|in\s+store|before))*")
_ORDER_VERB = (r"(?:last\s+)?(?:shopped|ordered|bought|purchased|transacted|"
               r"made\s+(?:an?\s+|any\s+)?purchases?|placed\s+(?:an?\s+|any\s+)?orders?)")
_NEVER = re.compile(
    r"\s*never\s+(?:ever\s+)?(" + _ORDER_VERB + r"|visited|came\s+in|come\s+in)"
    + _OBJECTS + r"(?:\s+(?:us|the\s+store|our\s+store))?(?![\w'-])"
)
_DATE_SUBJECTS: list[tuple[str, re.Pattern[str], bool]] = [
    # (field, subject, negated: "inactive for 6 months" is "not active in 6 months")
    ("first_order_date", _c(
        r"(?:made\s+|placed\s+)?(?:their\s+|the\s+|a\s+)?first\s+(?:order(?:ed)?|purchased?|"
        r"bought|shopped)(?:\s+date)?(?:\s+(?:was|is))?"), False),
    ("last_order_date", _c(
        r"(?:their\s+|the\s+|a\s+)?(?:last|latest|most\s+recent)\s+(?:order|purchase)"
        r"(?:\s+date)?(?:\s+(?:was|is))?(?:\s+placed)?|" + _ORDER_VERB + _OBJECTS
        + r"|(?:an?\s+|any\s+)?(?:orders?|purchases?)"), False),
    ("last_order_date", _c(
        r"(?:been\s+)?(?:inactive|lapsed|dormant)(?:\s+(?:customers?|users?|buyers?))?"),
        True),
    ("last_order_date", _c(r"(?:been\s+)?active(?:\s+(?:customers?|users?|buyers?))?"), False),
    ("signup_date", _c(
        r"signed[\s-]?up|sign[\s-]?ups?|joined(?:\s+us)?|registered|became\s+(?:a\s+)?"
        r"customers?|(?:their\s+|the\s+)?sign[\s-]?up\s+date(?:\s+(?:was|is))?|"
        r"(?:were\s+)?created|new\s+(?:customers?|users?|members?|buyers?|sign[\s-]?ups?)|"
        r"acquired"), False),
    ("last_visit", _c(
        r"(?:last\s+)?visited(?:\s+(?:us|the\s+store|our\s+store|the\s+shop|our\s+shop|"
        r"the\s+app|our\s+app|the\s+site|our\s+site))?|(?:their\s+|the\s+)?last\s+visit"
        r"(?:\s+date)?(?:\s+(?:was|is))?|came\s+in|(?:an?\s+|any\s+)?visits?"), False),
]
_COUNT_NOUN = _c(r"(orders?|purchases?|transactions?|visits?)")
_COUNT_LEAD = _c(r"placed|made|having|with|across")
_TIMES_VERB = _c(
    r"(ordered|bought|purchased|shopped|visited)(?:\s+(?:from\s+us|with\s+us|us|online|"
    r"the\s+store|our\s+store))?"
)
_TIMES = re.compile(r"\s*(once|twice|thrice)(?![\w'-])")
_TIMES_WORD = _c(r"times?")
_REPEAT = _c(r"repeat\s+(?:customers?|buyers?|shoppers?|purchasers?)")
_ONE_TIME = _c(r"(?:one[\s-]?time|first[\s-]?time|single[\s-]?order)\s+"
               r"(?:customers?|buyers?|shoppers?|purchasers?)")
_HAS_ORDERS = _c(r"(?:an?\s+|any\s+|some\s+)?(?:orders?|purchases?)|" + _ORDER_VERB + _OBJECTS)
_AVG = _c(
    r"(?:an?\s+|their\s+)?(?:average|avg\.?|mean)\s+(?:order\s+(?:value|size|amount)|"
    r"order|basket(?:\s+(?:size|value))?|spend(?:ing)?\s+per\s+order|ticket(?:\s+size)?|"
    r"purchase(?:\s+value)?|bill(?:\s+value)?)(?:\s+(?:is|of|was))?|aov(?:\s+(?:is|of))?"
)
_SPEND = _c(
    r"(?:a\s+)?(?:total\s+)?(?:spent|spend(?:s|ing)?|(?:lifetime|total)\s+(?:value|spend(?:ing)?|"
    r"purchases?)|ltv|clv|(?:bought|purchased|shopped|ordered)(?:\s+(?:for|worth))?)"
    r"(?:\s+(?:(?:a\s+)?total\s+of|in\s+total|overall|(?:is|of|was)))?"
)
_AMOUNT_TAIL = _c(r"(?:in\s+total|overall|in\s+all|lifetime|so\s+far|with\s+us|"
                  r"at\s+(?:our|the)\s+store|on\s+orders|worth(?:\s+of\s+(?:orders|goods))?)")
_COUNT_TAIL = _c(r"in\s+total|overall|in\s+all|so\s+far|with\s+us|from\s+us")
_SUBSCRIBED = _c(
    r"subscribed(?:\s+to\s+(?:marketing|(?:our\s+|the\s+)?(?:emails?|newsletter|messages?|"
    r"sms|updates)))?|subscribers?|opted[\s-]?in|(?:with\s+|who\s+gave\s+)?marketing\s+consent"
)
_UNSUBSCRIBED = _c(r"unsubscribed|unsubscribers?|opted[\s-]?out")
_TAG_LEAD = _c(
    r"tagged(?:\s+(?:as|with))?|(?:with|having|has|have)\s+(?:the\s+|a\s+)?tags?|"
    r"labell?ed(?:\s+as)?|in\s+the\s+tag"
)
_TAG_TAIL = _c(r"tags?|tagged|customers?|members?|users?|buyers?|shoppers?|clients?")
_ANY_VISIT = _c(r"(?:an?\s+|any\s+)?visits?|visited(?:\s+(?:us|the\s+store|our\s+store))?")
_UNTAGGED = _c(r"untagged|tagless")
_ANY_TAG = _c(r"(?:a\s+|any\s+)?tags?|tagged")
_CITY_LEAD = _c(
    r"(?:lives?|living|live|based|located|residing|staying|resident)\s+(?:in|at)|"
    r"(?:whose\s+|their\s+|the\s+)?city\s+(?:is|=|of)|in\s+the\s+city\s+of|city|from|in|at"
)
_STRONG_CITY_LEAD = re.compile(r"\s*(?:lives?|living|live|based|located|residing|staying|"
                               r"resident|whose|their|the\s+city|city|from)\b")
_LIST_JOIN = re.compile(r"\s*(?:,\s*(?:and|or|&)?|and|or|&|as\s+well\s+as)\s*")
_PROVIDER = _c(
    r"(?:an?\s+)?(gmail|yahoo|hotmail|outlook|rediffmail|icloud)(?:\.com)?"
    r"(?:\s+(?:addresses|address|accounts?|emails?|ids?|users?|customers?))?"
)
_TEXT_FIELD = _c(r"(?:their\s+|the\s+|whose\s+)?(email(?:\s+address)?|e-mail|name|phone"
                 r"(?:\s+number)?|mobile(?:\s+number)?)")
_TEXT_OP = _c(
    r"(ends?\s+with|ending\s+(?:with|in)|contains?|containing|includes?|including|"
    r"starts?\s+with|starting\s+with|begins?\s+with|beginning\s+with|is|=|equals?)"
)
_NAMED = _c(r"named|called")
_VALUE = re.compile(r"\s*(?:\"([^\"]+)\"|'([^']+)'|“([^”]+)”|‘([^’]+)’|([^\s,\"']+))")
_HAS_PHONE = _c(r"(?:an?\s+|any\s+)?(?:phone|mobile)(?:\s+numbers?)?")
_PROVIDERS = {"gmail": "@gmail.com", "yahoo": "@yahoo.com", "hotmail": "@hotmail.com",
              "outlook": "@outlook.com", "rediffmail": "@rediffmail.com",
              "icloud": "@icloud.com"}
_TEXT_OPS = {"end": "endsWith", "ending": "endsWith", "contain": "contains",
             "containing": "contains", "include": "contains", "including": "contains",
             "start": "beginsWith", "starting": "beginsWith", "begin": "beginsWith",
             "beginning": "beginsWith", "is": "=", "=": "=", "equal": "="}
_VAGUE: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\b(?:inactive|lapsed|dormant|churned|lost)\b"),
     'say for how long, e.g. "haven\'t ordered in 6 months"'),
    (re.compile(r"\b(?:high[\s-]value|big\s+spenders?|high\s+spenders?|loyal|best|top|"
                r"valuable|frequent|regular|rich|premium|heavy|low[\s-]value|small)\b"),
     'say the amount or the count, e.g. "spent over ₹10,000" or "more than 5 orders"'),
    (re.compile(r"\b(?:recent(?:ly)?|lately|new|old)\b"),
     'say the period, e.g. "in the last 30 days" or "since January 2025"'),
]
_DANGLING = re.compile(r"\b(?:and|or|but|who|that|whose|which|with|having|plus|also)\b|[,&;]")
# A comma between digits groups thousands (₹20,000): it ends no clause.
_STOP = re.compile(r"\s(?:and|or|but|who|that|with)\s|(?<![0-9]),|,(?![0-9])|;")
# "Big spenders: spent over ₹20,000": a segment's name before a colon, then its definition.
_HEADING = re.compile(r"([^:0-9]{1,60}):\s+(?=\S)")


def cond(field: str, operator: str, value: Any = None) -> Node:
    node: Node = {"field": field, "operator": operator}
    if value is not None:
        node["value"] = value
    return node


def group(rules: list[Node], combinator: str = "and", negated: bool = False) -> Node:
    return {"combinator": combinator, "not": negated, "rules": rules}


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def negate(node: Node) -> Node:
    """The exact complement of a node, as the builder would best show it."""
    if "rules" in node:
        return {**node, "not": not node.get("not", False)}
    field, op = node["field"], node["operator"]
    if isinstance(node.get("value"), bool) and op == "=":
        return {**node, "value": not node["value"]}
    if op in COMPLEMENTS:
        return {**node, "operator": COMPLEMENTS[op]}
    if field in NEVER_EMPTY and op in _FLIP:
        if field in ("order_count", "visits") and op == ">" and node["value"] == 0:
            return cond(field, "=", 0)
        return {**node, "operator": _FLIP[op]}
    return group([node], negated=True)


@dataclass(frozen=True)
class Found:
    node: Node
    end: int
    #: The numeric field compared, so "spent over 5k but under 20k" can go on.
    field: str | None = None


def _compared(field: str, op: str, value: Decimal | list[Decimal], end: int) -> Found:
    shown = [_number(v) for v in value] if isinstance(value, list) else _number(value)
    return Found(cond(field, op, shown), end, field)


def _up_to_stop(rest: str) -> str:
    """The words of `rest` before the next joining word or comma."""
    stop = _STOP.search(" " + rest + " ")
    return rest[: stop.start() - 1] if stop and stop.start() > 1 else rest


class _Parser:
    def __init__(self, text: str, vocabulary: Vocabulary, as_of: datetime) -> None:
        self.text = text
        self.vocabulary = vocabulary
        self.as_of = as_of
        self.city_re = vocabulary.pattern(vocabulary.cities)
        self.tag_re = vocabulary.pattern(vocabulary.tags)
        self.last_field: str | None = None
        self.matchers: list[Callable[[int], Found | None]] = [
            self.never, self.counts, self.times, self.repeat, self.average, self.spend,
            self.dated, self.subscription, self.tags, self.cities, self.contact,
            self.has_orders, self.bare_names, self.continued,
        ]

    # --- the sentence ----------------------------------------------------------------------

    def parse(self) -> Node:
        text = self.text
        m = _PREFIX.match(text)
        pos = m.end() if m else 0
        runs: list[list[Node]] = [[]]
        while True:
            start = pos
            pos, said_or = self.connectors(pos)
            if pos >= len(text):
                if runs[-1] and _DANGLING.search(text[start:]):
                    raise NotUnderstood(
                        f'the sentence ends with "{text[start:].strip()}": finish the condition')
                break
            if said_or and runs[-1]:
                runs.append([])
            negated = False
            while True:
                m = _NEGATION.match(text, pos)
                if not m:
                    break
                negated = not negated
                pos, _ = self.connectors(m.end())
            if pos >= len(text):
                raise NotUnderstood("the sentence ends with a negation: say what is not true")
            found = self.clause(pos)
            runs[-1].append(negate(found.node) if negated else found.node)
            pos = found.end
        runs = [run for run in runs if run]
        if not runs:
            raise NotUnderstood(
                f'no condition found in "{text}": an empty rule already matches every customer')
        ands = [run[0] if len(run) == 1 else group(run) for run in runs]
        if len(ands) == 1:
            only = ands[0]
            return only if "rules" in only and not only["not"] else group([only])
        return group(ands, "or")

    def connectors(self, pos: int) -> tuple[int, bool]:
        said_or = False
        while True:
            m = _CONNECTOR.match(self.text, pos)
            if not m or m.end() == pos:
                return pos, said_or
            said_or = said_or or bool(_OR.search(m.group(0)))
            pos = m.end()

    def clause(self, pos: int) -> Found:
        for matcher in self.matchers:
            found = matcher(pos)
            if found is not None:
                if found.field is not None:
                    self.last_field = found.field
                return found
        raise self.not_understood(pos)

    def not_understood(self, pos: int) -> NotUnderstood:
        rest = self.text[pos:].strip()
        snippet = _up_to_stop(rest)[:60].strip() or rest[:60]
        try:
            period = read_period(self.text, pos, self.as_of)
        except NotUnderstood:
            period = None
        if period is not None:
            return NotUnderstood(
                f'"{self.text[pos:period[1]].strip()}" is a period, but of what? Say what '
                'happened in it, e.g. "ordered in the last 30 days" or "signed up this year"')
        for pattern, advice in _VAGUE:
            if pattern.search(snippet):
                return NotUnderstood(f'"{snippet}" is too vague for a rule: {advice}')
        m = re.match(r"(?:in|from|at)\s+(.+)", snippet)
        if m:
            return NotUnderstood(self.unknown_city(m.group(1)))
        return NotUnderstood(
            f'could not understand "{snippet}". The offline parser knows spending, orders, '
            "visits, sign-up, order and visit dates, cities, tags, subscription, email, name "
            "and phone, joined by and/or/not.")

    def unknown_city(self, word: str) -> str:
        known = ", ".join(self.vocabulary.cities[:12]) or "none yet"
        return f'"{word}" is not a city of any customer (cities: {known})'

    # --- clauses ---------------------------------------------------------------------------

    def never(self, pos: int) -> Found | None:
        m = _NEVER.match(self.text, pos)
        if not m:
            return None
        verb = m.group(1)
        is_visit = verb.startswith(("visit", "came", "come"))
        field = "last_visit" if is_visit else "last_order_date"
        period = read_period(self.text, m.end(), self.as_of)
        if period is not None:
            return Found(negate(self.dated_node(field, period[0])), period[1])
        return Found(cond("visits" if is_visit else "order_count", "=", 0), m.end())

    def counts(self, pos: int) -> Found | None:
        lead = _COUNT_LEAD.match(self.text, pos)
        start = lead.end() if lead else pos
        comparison = read_comparison(self.text, start, read_count)
        if comparison is None:
            return None
        op, value, end = comparison
        noun = _COUNT_NOUN.match(self.text, end)
        if not noun:
            return None
        field = "visits" if noun.group(1).startswith("visit") else "order_count"
        return self.counted(field, op, value, noun.end())

    def times(self, pos: int) -> Found | None:
        verb = _TIMES_VERB.match(self.text, pos)
        if not verb:
            return None

        def read_times(text: str, at: int) -> tuple[Decimal, int] | None:
            word = _TIMES.match(text, at)
            if word:
                return Decimal(TIMES_WORDS[word.group(1)]), word.end()
            number = read_count(text, at)
            if number is None:
                return None
            tail = _TIMES_WORD.match(text, number[1])
            return (number[0], tail.end()) if tail else None

        comparison = read_comparison(self.text, verb.end(), read_times)
        if comparison is None:
            return None
        op, value, end = comparison
        field = "visits" if verb.group(1) == "visited" else "order_count"
        return self.counted(field, op, value, end)

    def counted(self, field: str, op: str, value: Decimal | list[Decimal], end: int) -> Found:
        tail = _COUNT_TAIL.match(self.text, end)
        end = tail.end() if tail else end
        if read_period(self.text, end, self.as_of) is not None:
            what = "visits" if field == "visits" else "orders"
            raise NotUnderstood(
                f"MiniCRM counts all of a customer's {what}, whatever their date, so a count "
                'within a period cannot be expressed; try e.g. "more than 3 orders and ordered '
                'in the last 90 days"')
        return _compared(field, op, value, end)

    def repeat(self, pos: int) -> Found | None:
        m = _REPEAT.match(self.text, pos)
        if m:
            return Found(cond("order_count", ">=", 2), m.end())
        m = _ONE_TIME.match(self.text, pos)
        if m:
            return Found(cond("order_count", "=", 1), m.end())
        return None

    def money(self, field: str, pos: int) -> Found | None:
        comparison = read_comparison(self.text, pos, read_amount)
        if comparison is None:
            return None
        op, value, end = comparison
        noun = _COUNT_NOUN.match(self.text, end)
        if noun or _TIMES_WORD.match(self.text, end):
            return None  # "bought 3 times", "ordered over 5 orders": a count, not money
        tail = _AMOUNT_TAIL.match(self.text, end)
        end = tail.end() if tail else end
        if read_period(self.text, end, self.as_of) is not None:
            raise NotUnderstood(
                "MiniCRM counts spending over all of a customer's orders, whatever their "
                'date, so spending within a period cannot be expressed; try e.g. "spent over '
                '₹5,000 and ordered in the last 90 days"')
        return _compared(field, op, value, end)

    def average(self, pos: int) -> Found | None:
        m = _AVG.match(self.text, pos)
        return self.money("avg_order_value", m.end()) if m else None

    def spend(self, pos: int) -> Found | None:
        m = _SPEND.match(self.text, pos)
        return self.money("total_spend", m.end()) if m else None

    def dated_node(self, field: str, period: dict[str, Any]) -> Node:
        node = cond(field, period["operator"], period["value"])
        if period.get("known"):  # "more than 6 months ago": and there is such a date
            return group([cond(field, "notNull"), node])
        return node

    def dated(self, pos: int) -> Found | None:
        for field, subject, negated in _DATE_SUBJECTS:
            m = subject.match(self.text, pos)
            if not m:
                continue
            period = read_period(self.text, m.end(), self.as_of)
            if period is None:
                continue
            node = self.dated_node(field, period[0])
            return Found(negate(node) if negated else node, period[1])
        return None

    def subscription(self, pos: int) -> Found | None:
        m = _UNSUBSCRIBED.match(self.text, pos)
        if m:
            return Found(cond("subscribed", "=", False), m.end())
        m = _SUBSCRIBED.match(self.text, pos)
        if m:
            return Found(cond("subscribed", "=", True), m.end())
        return None

    def name_list(
        self, pattern: re.Pattern[str] | None, names: tuple[str, ...], pos: int
    ) -> tuple[list[str], list[str], int] | None:
        """Known names joined by commas/and/or: (names, joining words, end)."""
        if pattern is None:
            return None
        m = pattern.match(self.text, pos)
        if not m:
            return None
        found = [self.vocabulary.canonical(names, m.group(1))]
        joins: list[str] = []
        end = m.end()
        while True:
            join = _LIST_JOIN.match(self.text, end)
            if not join:
                break
            more = pattern.match(self.text, join.end())
            if not more:
                break
            found.append(self.vocabulary.canonical(names, more.group(1)))
            joins.append(join.group(0).strip(" ,") or ",")
            end = more.end()
        return found, joins, end

    def city_node(self, cities: list[str]) -> Node:
        unique = list(dict.fromkeys(cities))
        return cond("city", "=", unique[0]) if len(unique) == 1 else cond("city", "in", unique)

    def tag_found(self, listed: tuple[list[str], list[str], int]) -> Found:
        """Tags as listed (`name_list`), and a trailing "tags" or "customers"."""
        names, joins, end = listed
        tail = _TAG_TAIL.match(self.text, end)
        return Found(self.tag_node(names, joins), tail.end() if tail else end)

    def tag_node(self, tags: list[str], joins: list[str]) -> Node:
        unique = list(dict.fromkeys(tags))
        if len(unique) == 1:
            return cond("tags", "contains", unique[0])
        if joins and all(j in ("and", "&", "as well as") for j in joins):
            return group([cond("tags", "contains", t) for t in unique])
        return cond("tags", "in", unique)

    def tags(self, pos: int) -> Found | None:
        m = _UNTAGGED.match(self.text, pos)
        if m:
            return Found(cond("tags", "null"), m.end())
        m = _TAG_LEAD.match(self.text, pos)
        if not m:
            return None
        listed = self.name_list(self.tag_re, self.vocabulary.tags, m.end())
        if listed is None:
            word = self.text[m.end():].strip().split(" ")[0].strip(",.")
            if not word:
                return Found(cond("tags", "notNull"), m.end())
            known = ", ".join(self.vocabulary.tags[:12]) or "none yet"
            raise NotUnderstood(f'no customer is tagged "{word}" (tags: {known})')
        return self.tag_found(listed)

    def cities(self, pos: int) -> Found | None:
        m = _CITY_LEAD.match(self.text, pos)
        if not m:
            return None
        listed = self.name_list(self.city_re, self.vocabulary.cities, m.end())
        if listed is None:
            if _STRONG_CITY_LEAD.match(self.text, pos):
                rest = self.text[m.end():].strip()
                raise NotUnderstood(self.unknown_city(_up_to_stop(rest)[:40] or rest[:40]))
            return None
        return Found(self.city_node(listed[0]), listed[2])

    def contact(self, pos: int) -> Found | None:
        text = self.text
        m = _PROVIDER.match(text, pos)
        if m:
            return Found(cond("email", "endsWith", _PROVIDERS[m.group(1)]), m.end())
        m = _NAMED.match(text, pos)
        if m:
            value = _VALUE.match(text, m.end())
            if value:
                return Found(cond("name", "contains", self.value_text(value)), value.end())
        m = _TEXT_FIELD.match(text, pos)
        if m:
            field = "email" if m.group(1).startswith("e") else \
                "name" if m.group(1) == "name" else "phone"
            op = _TEXT_OP.match(text, m.end())
            if op:
                value = _VALUE.match(text, op.end())
                if value:
                    word = op.group(1).split()[0].rstrip("s")
                    operator = _TEXT_OPS.get(word, _TEXT_OPS.get(op.group(1).split()[0], "="))
                    return Found(cond(field, operator, self.value_text(value)), value.end())
        m = _HAS_PHONE.match(text, pos)
        if m:
            return Found(cond("phone", "notNull"), m.end())
        return None

    @staticmethod
    def value_text(m: re.Match[str]) -> str:
        return next(g for g in m.groups() if g)

    def has_orders(self, pos: int) -> Found | None:
        m = _HAS_ORDERS.match(self.text, pos)
        if m:
            return Found(cond("order_count", ">", 0), m.end())
        m = _ANY_TAG.match(self.text, pos)
        if m:
            return Found(cond("tags", "notNull"), m.end())
        m = _ANY_VISIT.match(self.text, pos)
        if m:
            return Found(cond("visits", ">", 0), m.end())
        return None

    def bare_names(self, pos: int) -> Found | None:
        listed = self.name_list(self.city_re, self.vocabulary.cities, pos)
        if listed is not None:
            return Found(self.city_node(listed[0]), listed[2])
        listed = self.name_list(self.tag_re, self.vocabulary.tags, pos)
        return self.tag_found(listed) if listed is not None else None

    def continued(self, pos: int) -> Found | None:
        """"… but under 20k": a comparison that goes on with the last numeric field."""
        field = self.last_field
        if field is None:
            return None
        if field in MONEY_FIELDS:
            return self.money(field, pos)
        comparison = read_comparison(self.text, pos, read_count)
        if comparison is None:
            return None
        op, value, end = comparison
        noun = _COUNT_NOUN.match(self.text, end) or _TIMES_WORD.match(self.text, end)
        return self.counted(field, op, value, noun.end() if noun else end)


def normalize(text: str) -> str:
    """Lower case, straight apostrophes, single spaces, no closing punctuation."""
    text = text.replace("’", "'").replace("‘", "'").replace("`", "'").lower()
    text = re.sub(r"\s+", " ", text).strip()
    return text.rstrip(".!?;: ").strip()


def _as_written(message: str, text: str) -> str:
    """The message with each quoted part of the sentence in the user's own capitals."""
    written = re.sub(r"\s+", " ", text.replace("’", "'").replace("‘", "'")).strip()
    lowered = written.lower()
    if len(lowered) != len(written):  # a letter whose lower case is longer: leave as is
        return message

    def restore(m: re.Match[str]) -> str:
        at = lowered.find(m.group(1))
        return f'"{written[at:at + len(m.group(1))]}"' if at >= 0 else m.group(0)

    return re.sub(r'"([^"]+)"', restore, message)


def parse_sentence(
    text: str, vocabulary: Vocabulary, as_of: datetime | None = None
) -> RuleGroup:
    """The rule a marketer's sentence describes, or NotUnderstood saying which part is not
    understood. `as_of` is the clock for "this year" and the like (default: now, UTC)."""
    clean = normalize(text)
    if not clean:
        raise NotUnderstood(NO_SENTENCE)
    if len(clean) > MAX_SENTENCE:
        raise NotUnderstood(f"the sentence is longer than {MAX_SENTENCE} characters")
    clock = as_of or datetime.now(UTC)
    try:
        try:
            tree = _Parser(clean, vocabulary, clock).parse()
        except NotUnderstood:
            heading = _HEADING.match(clean)
            if heading is None:
                raise
            # Only when the whole sentence is not understood: the words before the colon
            # name the segment, the words after it define it.
            tree = _Parser(clean[heading.end():], vocabulary, clock).parse()
    except NotUnderstood as exc:
        raise NotUnderstood(_as_written(str(exc), text)) from None
    try:
        return parse_rule(tree)
    except RuleError as exc:  # a value the contract refuses, e.g. a date out of range
        raise NotUnderstood(f"the sentence gives a value MiniCRM cannot use: {exc}") from None
