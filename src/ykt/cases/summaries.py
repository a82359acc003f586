"""The case sentence: rules.yaml's case_text of each rule, filled per case (vectorised polars).

IDs and cards are masked here (ykt.masking); every other value comes from the case row as
text already (amounts and dates formatted in SQL).
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from ykt.cases.statements import CASE_SQL
from ykt.detect import CaseText, RuleRegistry
from ykt.masking import mask_card_expr, mask_id_expr
from ykt.warehouse import Warehouse


def period_text_expr(period: pl.Expr) -> pl.Expr:
    """'2024-08' → 2024年8月, '2024-Q1' → 2024年第1季度, '2024' → 2024年度, 'a/b' → 'A至B'."""
    one = (
        pl.element()
        .str.replace(r"^(\d{4})-Q(\d)$", "${1}年第${2}季度")
        .str.replace(r"^(\d{4})-0?(\d{1,2})$", "${1}年${2}月")
        .str.replace(r"^(\d{4})$", "${1}年度")
    )
    return period.str.split("/").list.eval(one).list.join("至").fill_null("")


def summary_parts(as_of: dt.date) -> dict[str, pl.Expr]:
    """The value of each case_text field (ykt.detect.CASE_TEXT_FIELDS, in that order) for a case row."""
    place = pl.concat_str(["township", "village", "group_name"], ignore_nulls=True).fill_null("")
    person = pl.format(
        "{}（{}）", pl.col("name").fill_null(""), mask_id_expr(pl.col("id_number")).fill_null("****")
    )
    who = pl.when(pl.col("persons") == 1).then(person).otherwise(pl.format("{}人", pl.col("persons")))
    return {
        "lead": pl.when(place == "").then(who).otherwise(pl.format("{} {}", place, who)),
        "place": pl.when(place == "").then(pl.lit("")).otherwise(pl.format("{} ", place)),
        "period": period_text_expr(pl.col("period")),
        "program": pl.col("program_name").fill_null("补贴"),
        "amount": pl.col("amount_text").fill_null("0.00"),
        "due": pl.col("due_amount_text"),
        "paid": pl.col("paid_amount_text"),
        "due_date": pl.col("due_text").fill_null(""),
        "days": pl.col("days_overdue").fill_null(0),
        "findings": pl.col("findings"),
        "persons": pl.col("persons"),
        "card": mask_card_expr(pl.col("card_number")).fill_null("****"),
        "as_of": pl.lit(as_of.isoformat()),
    }


def sentence(text: CaseText, parts: dict[str, pl.Expr]) -> pl.Expr:
    """A case_text as one pl.format over the parts it names."""
    return pl.format("{}".join(text.literals), *(parts[field] for field in text.fields))


def _rule_sentences(registry: RuleRegistry, parts: dict[str, pl.Expr]) -> dict[str, pl.Expr]:
    return {rule.code: sentence(rule.case_text, parts) for rule in registry.rules if rule.case_text}


def _fallback_sentence(registry: RuleRegistry, parts: dict[str, pl.Expr]) -> pl.Expr:
    """The sentence of a rule without a case_text of its own, by route (a non-complaint case is a clue)."""
    return (
        pl.when(pl.col("route") == "complaint")
        .then(sentence(registry.fallback_case_text("complaint"), parts))
        .otherwise(sentence(registry.fallback_case_text("clue"), parts))
    )


def summary_expr(as_of: dt.date, registry: RuleRegistry) -> pl.Expr:
    """The Chinese sentence a villager and an inspector both understand (IDs and cards masked)."""
    parts = summary_parts(as_of)
    expr = _fallback_sentence(registry, parts)
    for rule, text in _rule_sentences(registry, parts).items():
        expr = pl.when(pl.col("rule") == rule).then(text).otherwise(expr)
    return expr


def case_summaries(cases: pl.DataFrame, as_of: dt.date, registry: RuleRegistry) -> pl.DataFrame:
    """case_id and summary_expr's sentence, computed the cheap way: each rule's cases get only their own
    sentence (summary_expr evaluates all of them on every case), and the period text is built once per
    distinct period (a night has a handful)."""
    periods = cases.select(pl.col("period").unique())
    texts = periods.with_columns(period_text=period_text_expr(pl.col("period")))
    cases = cases.join(texts, on="period", how="left", nulls_equal=True)
    parts = {**summary_parts(as_of), "period": pl.col("period_text")}
    sentences = _rule_sentences(registry, parts)
    frames = [
        part.select("case_id", sentences.get(str(rule), _fallback_sentence(registry, parts)).alias("summary"))
        for (rule,), part in cases.partition_by("rule", as_dict=True).items()
    ]
    return pl.concat(frames) if frames else pl.DataFrame(schema={"case_id": pl.Utf8, "summary": pl.Utf8})


def stage_summaries(wh: Warehouse, as_of: dt.date, registry: RuleRegistry) -> None:
    """`case_summary`: the sentence of each case staged in `case_current`."""
    summaries = case_summaries(wh.frame("cases.summary input", CASE_SQL["summary_input"]), as_of, registry)
    wh.execute("cases.summaries", CASE_SQL["create_case_summary"])
    wh.insert_frame("case_summary", summaries)
