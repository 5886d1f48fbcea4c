"""A finished campaign in plain words, computed from its recorded figures.

The figures come from the delivery log (never from a model). For an A/B test with a winner
the variants are compared on the test share alone, as the campaign page's A/B panel and
the recorded winner are: the rest all got the winner, so whole-campaign figures would
compare unlike groups. The template below writes
the summary; when a model is configured it may re-phrase it, and its text is used only if
it contains exactly the same numbers as the template (no number dropped, none invented).
Only aggregate figures and reason names are sent, never a recipient.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine

from ..campaigns import campaign_details
from .config import AIConfig
from .errors import AIError
from .figures import compare_figures
from .figures import numbers_in as numbers_in  # re-exported: callers check summaries
from .openai_client import AnswerProblem, Cancelled, ask_structured

if TYPE_CHECKING:
    from ..campaigns import VariantResult

TEMPLATE_LABEL = "Built-in template"


@dataclass(frozen=True)
class VariantFigures:
    label: str
    sent: int
    failed: int

    @property
    def rate(self) -> float | None:
        attempted = self.sent + self.failed
        return None if attempted == 0 else self.sent / attempted


@dataclass(frozen=True)
class ABFigures:
    metric: str
    winner: str | None
    results: tuple[VariantResult, ...]

    def winner_rate(self) -> tuple[float, str] | None:
        """The winner's test-share rate and its word, by the metric the winner was chosen
        on (delivery when no engagement was reported, as `choose_winner` does)."""
        won = next((r for r in self.results if r.label == self.winner), None)
        if won is None:
            return None
        metric = self.metric if self.metric == "delivered" or any(
            r.opened for r in self.results) else "delivered"
        rate = won.rate(metric)
        return None if rate is None else (rate, "opened" if metric == "engagement"
                                          else "delivered")


@dataclass(frozen=True)
class CampaignFigures:
    """What the summary may say, all counted from the log."""

    name: str
    channel: str
    status: str
    audience: int
    sent: int
    failed: int
    skipped: int
    failure_reasons: tuple[tuple[str, int], ...]
    skip_reasons: tuple[tuple[str, int], ...]
    variants: tuple[VariantFigures, ...]
    #: Never sent because the campaign was cancelled (not a suppression: not "skipped").
    cancelled: int = 0
    #: An A/B test with a winner: its metric, recorded winner and the test share's results.
    ab_test: ABFigures | None = None

    @property
    def rate(self) -> float | None:
        attempted = self.sent + self.failed
        return None if attempted == 0 else self.sent / attempted

    def best_variant(self) -> VariantFigures | None:
        """The variant with the best delivery rate, if there is a clear one."""
        rated = [v for v in self.variants if v.rate is not None]
        if len(rated) < 2:
            return None
        ranked = sorted(rated, key=lambda v: v.rate or 0.0, reverse=True)
        return ranked[0] if (ranked[0].rate or 0) > (ranked[1].rate or 0) else None


@dataclass(frozen=True)
class Summary:
    text: str
    engine: str
    notice: str = ""


def campaign_figures(engine: Engine, campaign_id: int) -> CampaignFigures:
    """The campaign's figures, from the same snapshot as its page (runs in a task)."""
    from ..campaigns import results_of_test_share  # only A/B campaigns need it

    info = campaign_details(engine, campaign_id)
    tested = results_of_test_share(engine, campaign_id) if info.get("ab_test") else None
    return figures_from_details(info, tested)


def figures_from_details(info: dict[str, Any],
                         ab_results: list[VariantResult] | None = None) -> CampaignFigures:
    """The figures of a `campaign_details` snapshot: the page's header, variant table and
    summary then say the same numbers. `ab_results`: an A/B test's test-share results, as
    its panel shows them."""
    def named(items: list[tuple[str, int]]) -> tuple[tuple[str, int], ...]:
        return tuple((reason or "no reason given", n) for reason, n in items)

    return CampaignFigures(
        name=info["name"], channel=info["channel"], status=info["status"],
        audience=int(info["audience"]), sent=int(info["sent"]), failed=int(info["failed"]),
        skipped=int(info["skipped"]),
        failure_reasons=named(info["failure_reasons"]), skip_reasons=named(info["skip_reasons"]),
        variants=tuple(VariantFigures(v["label"], int(v["sent"]), int(v["failed"]))
                       for v in info["variants"]),
        cancelled=int(info.get("cancelled", 0)),
        ab_test=None if not info.get("ab_test") else ABFigures(
            info["ab_test"].get("metric") or "delivered", info["ab_test"].get("winner"),
            tuple(ab_results or ())),
    )


def _percent(rate: float) -> str:
    return f"{rate * 100:.1f}%"


def template_summary(f: CampaignFigures) -> str:
    """The summary in plain words, from the figures alone."""
    noun = "customer" if f.audience == 1 else "customers"
    # Reached means delivered: failed, skipped and cancelled recipients were not reached.
    parts = [f"{f.name} reached {f.sent:,} of its {f.audience:,} {noun}"]
    if f.rate is not None:
        parts[0] += f" ({_percent(f.rate)} of the messages tried were delivered)"
    elif f.audience:
        parts.append("nothing has been sent yet")
    if f.failed:
        reason, n = f.failure_reasons[0] if f.failure_reasons else ("unknown", f.failed)
        most = "all" if n == f.failed else "most"
        parts.append(f"{f.failed:,} failed, {most} because of \u201c{reason}\u201d ({n:,})")
    if f.skipped:
        reason, n = f.skip_reasons[0] if f.skip_reasons else ("unknown", f.skipped)
        parts.append(f"{f.skipped:,} skipped, mostly \u201c{reason}\u201d ({n:,})")
    if f.cancelled:
        parts.append(f"{f.cancelled:,} never sent because the campaign was cancelled")
    text = "; ".join(parts) + "." + _best_words(f)
    if f.status not in ("completed", "cancelled"):
        text += f" The campaign is {f.status}, so these figures may still change."
    return text


def _best_words(f: CampaignFigures) -> str:
    """Which variant did best: for an A/B test with a winner, the recorded winner and its
    test-share rate (the A/B panel's figures); otherwise by whole-campaign delivery."""
    if f.ab_test is not None:
        if f.ab_test.winner is None:
            return ""  # the panel says when the winner will be chosen
        rated = f.ab_test.winner_rate()
        how = "" if rated is None else f", with {_percent(rated[0])} {rated[1]} in the test"
        return f" Variant {f.ab_test.winner} won the A/B test{how}."
    best = f.best_variant()
    if best is None or best.rate is None:
        return ""
    return f" Variant {best.label} did best, with {_percent(best.rate)} delivered."


SYSTEM = """Rewrite a campaign report for a marketer in two or three plain sentences. Use
every number in it exactly as written (same digits, commas and decimals) and no other
number: do not compute, round or add figures, and do not write numbers as words. Keep
reason names as written. Answer in the JSON schema."""

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"summary": {"type": "string"}},
    "required": ["summary"],
    "additionalProperties": False,
}


def _validator(report: str) -> Callable[[Any], str]:
    def validate(data: Any) -> str:
        text = data.get("summary") if isinstance(data, dict) else None
        if not isinstance(text, str) or not text.strip():
            raise AnswerProblem("expected a summary text")
        check = compare_figures(text, report, exact=True)
        if not check.same:
            raise AnswerProblem(
                f"the numbers differ from the report (missing: "
                f"{', '.join(check.missing) or '-'}; "
                f"not in the report: {', '.join(check.extra) or '-'})")
        return " ".join(text.split())

    return validate


def summarise(config: AIConfig, figures: CampaignFigures,
              cancelled: Callable[[], bool] | None = None) -> Summary:
    """The template's summary, phrased by the model when one is configured and its text
    keeps exactly the template's numbers; the template's otherwise."""
    text = template_summary(figures)
    if not config.use_model:
        return Summary(text, TEMPLATE_LABEL)
    try:
        phrased = ask_structured(
            config, [{"role": "system", "content": SYSTEM},
                     {"role": "user", "content": "Report: " + text}],
            "campaign_summary", SCHEMA, _validator(text), cancelled)
    except Cancelled:
        raise
    except AIError as exc:
        return Summary(text, TEMPLATE_LABEL, f"{exc} The template's summary is shown.")
    return Summary(phrased, config.model_label)
