"""One clue per mistake: clue cases of different rules that flag the same payment are shown as one.

A payment flagged by several clue rules (OVERPAID and AMOUNT_OUTLIER on the same 68,640 元 row) would
otherwise reach inspectors as two clues. In the reports (clues.jsonl, the workbook's 线索 sheet) such cases
are one clue: the case of the rule that runs first, with `reasons` listing every rule that flagged the
payment, in registry order. discrepancies.csv keeps one row per rule, and the cases table keeps every
case: this is how the night's clues are read, not a change to what was found. A payment is the same
when person, program, period, pay date and amount are (a finding without a pay date joins nothing).
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

PAYMENT = ("id_number", "program_code", "period", "paid_date", "amount_paid")


def merge_clues(
    clues: pl.DataFrame, lines: pl.Series, findings: pl.DataFrame, rule_titles: Mapping[str, str]
) -> tuple[pl.DataFrame, pl.Series]:
    """The clue cases and their JSON lines, one per mistake: each kept case gains `reasons` (rule codes),
    and its line a `"reasons": [{"rule", "title"}, …]` key."""
    order = {code: i for i, code in enumerate(rule_titles)}
    leads = _leads(clues, findings, order)
    reasons = (
        leads.group_by("lead")
        .agg(pl.col("rule").sort_by("rank").alias("reasons"))
        .rename({"lead": "case_id"})
    )
    listed = clues.with_columns(line=lines).join(reasons, on="case_id", how="inner", maintain_order="left")
    listed = listed.with_columns(line=_with_reasons(pl.col("line"), pl.col("reasons"), rule_titles))
    return listed.drop("line"), listed.get_column("line")


def _leads(clues: pl.DataFrame, findings: pl.DataFrame, order: Mapping[str, int]) -> pl.DataFrame:
    """case_id, rule, rank and its lead: the first-ranked case sharing a flagged payment with it (itself when
    none does)."""
    cases = clues.select("case_id", "rule").with_columns(
        rank=pl.col("rule").replace_strict(dict(order), default=len(order), return_dtype=pl.Int64)
    )
    paid = findings.filter(pl.col("paid_date").is_not_null() & pl.col("id_number").is_not_null())
    payments = paid.select("case_id", *PAYMENT).unique().join(cases, on="case_id")
    first = (
        payments.sort("rank", "case_id")
        .group_by(PAYMENT, maintain_order=True)
        .agg(pl.col("case_id").first().alias("lead"))
    )
    per_case = (
        payments.join(first, on=PAYMENT)
        .join(cases.rename({"case_id": "lead", "rule": "lead_rule", "rank": "lead_rank"}), on="lead")
        .sort("lead_rank", "lead")
        .group_by("case_id", maintain_order=True)
        .agg(pl.col("lead").first())
    )
    return cases.join(per_case, on="case_id", how="left").with_columns(
        lead=pl.col("lead").fill_null(pl.col("case_id"))
    )


def _with_reasons(line: pl.Expr, reasons: pl.Expr, rule_titles: Mapping[str, str]) -> pl.Expr:
    """Append `"reasons": [...]` to a JSON object line (rule codes and registry titles hold no quotes)."""
    title = pl.element().replace_strict(dict(rule_titles), default=pl.element(), return_dtype=pl.Utf8)
    one = pl.concat_str(pl.lit('{"rule":"'), pl.element(), pl.lit('","title":"'), title, pl.lit('"}'))
    listed = reasons.list.eval(one).list.join(",")
    return pl.concat_str(line.str.strip_suffix("}"), pl.lit(',"reasons":['), listed, pl.lit("]}"))
