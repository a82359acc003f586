"""National scale runs the province SQL on Spark (docs/scale.md): one province rule transpiled from DuckDB to
Spark SQL with sqlglot parses as Spark and keeps the rule's logic, checked by reading the Spark SQL back into
DuckDB and running it over a tiny lake: the same findings as the rule itself."""

from __future__ import annotations

import datetime as dt

import polars as pl
import sqlglot
from sqlglot import exp

from tests.support.province import person, write_lake
from ykt.config import load_programs
from ykt.province.lake import open_lake
from ykt.province.rules import rules_folder
from ykt.warehouse import Lake

RULE = rules_folder() / "cross_county_duplicate.sql"
SCHEMA = {
    "id_number": pl.Utf8, "name": pl.Utf8, "township": pl.Utf8, "village": pl.Utf8, "amount": pl.Float64,
    "pay_date": pl.Date, "status": pl.Utf8, "county": pl.Utf8, "program": pl.Utf8, "period": pl.Utf8,
}  # fmt: skip


def spark_sql() -> str:
    return sqlglot.transpile(RULE.read_text(encoding="utf-8"), read="duckdb", write="spark")[0]


def test_transpiled_rule_parses_as_spark_with_the_same_tables_and_joins():
    original = sqlglot.parse_one(RULE.read_text(encoding="utf-8"), read="duckdb")
    spark = sqlglot.parse_one(spark_sql(), read="spark")
    tables = {t.name for t in spark.find_all(exp.Table)} - {c.alias for c in spark.find_all(exp.CTE)}
    assert tables == {"payments", "programs"}
    assert (
        [j.side for j in spark.find_all(exp.Join)]
        == [j.side for j in original.find_all(exp.Join)]
        == ["LEFT"]
    )
    assert len(list(spark.find_all(exp.Having))) == len(list(original.find_all(exp.Having))) == 2
    assert [c.alias for c in spark.find_all(exp.CTE)] == [c.alias for c in original.find_all(exp.CTE)]
    assert "COLLECT_LIST" in spark_sql() and "ARRAY_SORT" in spark_sql()


def test_transpiled_rule_finds_what_the_rule_finds(tmp_path):
    """Spark SQL read back as DuckDB, over the same tiny lake: identical findings."""
    twice, once = person("510723", 1), person("510723", 2)
    rows = [
        (twice, "甲", "镇", "村", 500.0, dt.date(2024, 8, 8), "success", "510723", "DIBAO", "2024-08"),
        (twice, "甲", "镇", "村", 600.0, dt.date(2024, 8, 8), "success", "510722", "DIBAO", "2024-08"),
        (once, "乙", "镇", "村", 500.0, dt.date(2024, 8, 8), "success", "510723", "DIBAO", "2024-08"),
    ]
    write_lake(tmp_path, "payments", rows, SCHEMA)
    back = sqlglot.transpile(spark_sql(), read="spark", write="duckdb")[0]
    with Lake() as lake:
        open_lake(lake, tmp_path, load_programs())
        expected = lake.frame("rule", RULE.read_text(encoding="utf-8"))
        actual = lake.frame("rule via spark", back)
    assert expected.height == 1
    assert actual.to_dicts() == expected.to_dicts()
