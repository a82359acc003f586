"""The demo inbox: deterministic, valid where it should be, damaged where it says, and its
manifest is the complete truth (checked against the real rule engine and the pandas reference).

The demo county is built once per module (`demo` fixture, ~2 s). Expected values come
from the story's stated design (sample_data/story.py docstrings), never from its output.
"""

from __future__ import annotations

import csv
import datetime as dt
import importlib.util
import io
import json
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from python_calamine import CalamineWorkbook
from stdnum import numdb

from ykt.config import load_programs
from ykt.detect import load_registry, run_rules
from ykt.kinds import KindSpec, kind_spec
from ykt.sample_data.generate import DEFAULT_SEED, generate_demo, main
from ykt.sample_data.story import NIGHTS, build_story
from ykt.warehouse.connection import Warehouse

ROOT = Path(__file__).resolve().parents[2]
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_HEADERS = (
    "身份证号码",
    "身份证号",
    "公民身份号码",
    "证件号码",
    "享受人身份证号",
    "户主身份证号",
    "收款人身份证号",
    "监护人身份证号",
)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    target = tmp_path_factory.mktemp("demo")
    plan = generate_demo(target)
    return plan, json.loads(plan.manifest_path.read_text(encoding="utf-8"))


# -- helpers (test code may loop over rows) -------------------------------------------------------------


def valid_id(value: str) -> bool:
    """GB 11643-1999: 17 digits, real birth date, known area code, check character."""
    if len(value) != 18 or not value[:17].isdigit():
        return False
    try:
        dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return False
    check = "10X98765432"[sum(int(c) * w for c, w in zip(value, WEIGHTS)) % 11]
    known_area = any(props for _, props in numdb.get("cn/loc").info(value[:6])[1:])
    return value[17].upper() == check and known_area


def sheets_of(path: Path) -> dict[str, list[list]]:
    """Every sheet's cells (typed for workbooks, text for CSV)."""
    if path.suffix in (".xlsx", ".xls"):
        book = CalamineWorkbook.from_path(str(path))
        return {name: book.get_sheet_by_name(name).to_python() for name in book.sheet_names}
    data = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    return {"": list(csv.reader(io.StringIO(text)))}


def header_index(rows: list[list]) -> int:
    return next(i for i, row in enumerate(rows) if any(str(c) in ID_HEADERS for c in row))


def data_rows(rows: list[list]) -> list[dict]:
    """Rows under the header that carry an ID column value, as {header: cell} with spreadsheet row numbers."""
    h = header_index(rows)
    header = [str(c) for c in rows[h]]
    out = []
    for number, row in enumerate(rows[h + 1 :], start=h + 2):
        record = dict(zip(header, row))
        if any(record.get(k) not in (None, "") for k in ID_HEADERS if k in record):
            out.append({**record, "_row": number})
    return out


def load_pandas_reference():
    spec = importlib.util.spec_from_file_location("pandas_reference", ROOT / "bench" / "pandas_reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def story_tables(night: int) -> tuple[pl.DataFrame, pl.DataFrame, object]:
    """The story's canonical entitlements (with due dates per programs.yaml) and the payments known at `night`."""
    programs = load_programs()
    story = build_story(DEFAULT_SEED)
    cfg = pl.DataFrame(
        [
            {
                "program_code": p.code,
                "cadence": p.cadence,
                "pay_day": p.pay_day,
                "days": p.due_days_after_approval,
            }
            for p in programs.programs
        ]
    )
    monthly_due = (pl.col("period") + "-" + pl.col("pay_day").cast(pl.Utf8).str.zfill(2)).str.to_date(
        "%Y-%m-%d", strict=False
    )
    ent = story.ent.join(cfg, on="program_code").with_columns(
        due_date=pl.when(pl.col("cadence") == "monthly")
        .then(monthly_due)
        .otherwise(pl.col("approval_date") + pl.duration(days=pl.col("days"))),
        amount_due=(pl.col("amount_fen") / 100).cast(pl.Decimal(18, 2)),
    )
    pay = story.pay.with_columns(amount=(pl.col("amount_fen") / 100).cast(pl.Decimal(18, 2)))
    if night == 1:
        pay = pay.filter(pl.col("batch") != "night2")
    return ent, pay, story


def _from_file(spec: KindSpec) -> list[str]:
    """The loaded columns a file fills (the loader adds the sheet and the row's warnings)."""
    return [c for c in spec.loaded_columns if c not in ("sheet", "warnings")]


def engine_findings(night: int) -> pl.DataFrame:
    """Run the real rule engine over the story's canonical data loaded straight into a warehouse."""
    programs = load_programs()
    ent, pay, story = story_tables(night)
    with Warehouse(":memory:") as wh:
        numbered = {"file_hash": pl.lit("demo"), "source_row": pl.int_range(1, pl.len() + 1).cast(pl.Int32)}
        for kind, frame in (("roster", ent), ("payments", pay)):
            spec = kind_spec(kind)
            wh.insert_frame(spec.table, frame.with_columns(**numbered).select("file_hash", *_from_file(spec)))
        wh.insert_frame("deaths", story.deaths.with_columns(**numbered))
        wh.insert_frame("public_employees", story.employees.with_columns(**numbered))
        run_rules(wh, programs, load_registry(), NIGHTS[night - 1])
        return wh.frame(
            "findings",
            "select rule, coalesce(id_number, '') as id_number, program_code, period, "
            "card_number from findings",
        )


def finding_keys(findings, with_program: bool = True) -> set[tuple]:
    return {
        (f["rule"], f["id_number"] or "", f["program_code"] if with_program else "", f["period"])
        for f in findings
    }


# -- determinism ---------------------------------------------------------------------------------------------


def test_same_seed_gives_identical_files(demo, tmp_path):
    """Generating again with the same seed (through the CLI) gives byte-identical CSVs and manifest and
    the same cell values in every workbook; another seed gives another county."""
    plan, _ = demo
    assert main(["--out", str(tmp_path / "again")]) == 0
    first, second = plan.manifest_path.parent, tmp_path / "again"
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(second) for p in second.rglob("*") if p.is_file())
    for rel in files:
        if rel.suffix in (".csv", ".json"):
            assert (first / rel).read_bytes() == (second / rel).read_bytes(), rel
        else:
            assert sheets_of(first / rel) == sheets_of(second / rel), rel
    other = generate_demo(tmp_path / "other", seed=DEFAULT_SEED + 1)
    assert other.manifest_path.read_text(encoding="utf-8") != plan.manifest_path.read_text(encoding="utf-8")


def test_two_nights_and_night_two_holds_only_new_files(demo):
    """Night 1 is 2024-09-12 and night 2 the day after; night 2's inbox holds only the bank's next
    detail (one file), none of night 1's files again; the manifest sits beside the inboxes."""
    plan, manifest = demo
    (inbox1, as_of1), (inbox2, as_of2) = plan.nights
    assert (as_of1, as_of2) == (dt.date(2024, 9, 12), dt.date(2024, 9, 13))
    assert plan.manifest_path.parent == inbox1.parent == inbox2.parent
    night2 = [p for p in inbox2.rglob("*") if p.is_file()]
    assert [p.parent.name for p in night2] == ["payments"]
    night1_bytes = {p.read_bytes() for p in inbox1.rglob("*") if p.is_file()}
    assert night2[0].read_bytes() not in night1_bytes
    kinds = {p.relative_to(inbox1).parts[0] for p in inbox1.rglob("*") if p.is_file()}
    assert kinds == {"roster", "payments", "reference"}
    suffixes = {p.suffix for p in (inbox1 / "roster").iterdir()}
    assert suffixes == {".xlsx", ".xls", ".csv"}


# -- identifiers ----------------------------------------------------------------------------------------------


def test_every_id_in_every_file_is_valid_except_the_listed_bad_rows(demo):
    """Every ID cell of every file is a valid 18-digit ID (lower-case x allowed), except exactly the
    rows the manifest lists as rejects; those are damaged the way it says (number cell / sci text / check digit)."""
    plan, manifest = demo
    inbox = plan.nights[0][0]
    bad = {(r["file"], r["row"]): r for r in manifest["rejected_rows"]}
    seen_bad = set()
    for night_inbox, _ in plan.nights:
        for path in sorted(p for p in night_inbox.rglob("*") if p.is_file()):
            rel = path.relative_to(night_inbox).as_posix()
            for rows in sheets_of(path).values():
                for record in data_rows(rows):
                    for header in (h for h in ID_HEADERS if record.get(h) not in (None, "")):
                        value = record[header]
                        if (rel, record["_row"]) in bad and header == bad[(rel, record["_row"])]["column"]:
                            seen_bad.add((rel, record["_row"]))
                            assert (
                                isinstance(value, float) or "E+" in str(value) or not valid_id(str(value))
                            ), (rel, record)
                            continue
                        assert isinstance(value, str) and valid_id(value), (
                            rel,
                            record["_row"],
                            header,
                            value,
                        )
    assert seen_bad == set(bad)
    assert {r["reason_code"] for r in manifest["rejected_rows"]} == {"ID_SCIENTIFIC", "ID_CHECKSUM"}
    assert inbox.name == "night1"


def test_manifest_ids_are_valid(demo):
    """Every ID named by the manifest (findings, negatives, seed cases, warnings) is a valid ID."""
    _, manifest = demo
    ids = [f["id_number"] for n in manifest["nights"] for f in n["findings"] if f["id_number"]]
    ids += [n["id_number"] for n in manifest["negatives"] if "id_number" in n]
    ids += [c["id_number"] for c in manifest["seed_cases"].values() if "id_number" in c]
    ids += [w["id_number"] for w in manifest["warnings"]]
    assert ids and all(valid_id(i) for i in ids)


# -- the seed cases --------------------------------------------------------------------------------------------


def payments_rows(inbox: Path) -> list[dict]:
    return [
        r
        for path in sorted((inbox / "payments").iterdir())
        for rows in sheets_of(path).values()
        for r in data_rows(rows)
    ]


def field(record: dict, *headers: str):
    return next(record[h] for h in headers if h in record)


def test_li_ancheng_unpaid_at_night_one_and_paid_the_day_after(demo):
    """李安成 (凤灵街道万安社区) has a 200 元 农机购置补贴 approved 2024-08-01: no payment in night 1's
    files, one successful 200 元 payment dated 2024-09-13 in night 2's; MISSING at night 1 only,
    and the late payment is PAID_LATE at night 2 only."""
    plan, manifest = demo
    (inbox1, _), (inbox2, _) = plan.nights
    roster = [
        r
        for rows in sheets_of(inbox1 / "roster" / "安和县农机购置补贴资金兑付清册.xlsx").values()
        for r in data_rows(rows)
        if r["姓名"] == "李安成"
    ]
    assert len(roster) == 1
    li = roster[0]
    assert (li["乡镇(街道)"], li["村(社区)"], li["补贴金额"], li["审批日期"]) == (
        "凤灵街道",
        "万安社区",
        200,
        dt.date(2024, 8, 1),
    )
    assert not [r for r in payments_rows(inbox1) if li["身份证号码"] in r.values()]
    paid = [r for r in payments_rows(inbox2) if li["身份证号码"] in r.values()]
    assert [(field(r, "实发金额"), field(r, "支付日期"), field(r, "支付状态")) for r in paid] == [
        ("200.00", "2024/9/13", "已发放")
    ]
    case = manifest["seed_cases"]["li_ancheng"]
    assert (case["department"], case["supervisor"], case["night2"]) == (
        "县农业农村局",
        "驻县农业农村局纪检监察组",
        "resolved",
    )
    night1, night2 = (finding_keys(n["findings"]) for n in manifest["nights"])
    assert ("MISSING", li["身份证号码"], "NONGJI", "2024-08") in night1 - night2
    assert ("PAID_LATE", li["身份证号码"], "NONGJI", "2024-08") in night2 - night1


def test_child_allowance_fails_every_month_and_is_never_reissued(demo):
    """The 唐昌镇永安村 child's 1350 元 fails every month with 账户未激活 and is never paid: FAILED_NOT_REISSUED
    for July and August; September's failure (09-08) is still within its 15-day window."""
    plan, manifest = demo
    child = manifest["seed_cases"]["child"]
    rows = [r for r in payments_rows(plan.nights[0][0]) if child["id_number"] in r.values()]
    failed_words = {"失败", "已退回", "交易失败", "支付失败"}
    assert len(rows) == 3
    assert all(field(r, "发放状态", "支付状态", "交易状态", "处理结果") in failed_words for r in rows)
    assert all(field(r, "失败原因", "退回原因", "备注") == "账户未激活" for r in rows)
    assert {Decimal(str(field(r, "发放金额", "实发金额", "交易金额")).rstrip("元")) for r in rows} == {
        Decimal("1350")
    }
    fnr = {
        k
        for k in finding_keys(manifest["nights"][0]["findings"])
        if k[0] == "FAILED_NOT_REISSUED" and k[1] == child["id_number"]
    }
    assert fnr == {("FAILED_NOT_REISSUED", child["id_number"], "CHILD", p) for p in ("2024-07", "2024-08")}


def test_wuyang_group_seven_268_people_never_paid(demo):
    """武阳社区7组's 提灌站 compensation roster: 268 people, a 合计 equal to the detail sum and between
    170,000 and 180,000 元; none of them in any bank file; 268 MISSING and one BATCH_STALLED in the truth."""
    plan, manifest = demo
    rows = sheets_of(plan.nights[0][0] / "roster" / "江口街道武阳社区7组提灌站拆迁补偿款发放清册.xlsx")[
        "清册"
    ]
    people = data_rows(rows)
    assert len(people) == 268
    assert {(p["所属乡镇"], p["村(居)委会"], p["村民小组"]) for p in people} == {
        ("江口街道", "武阳社区", "7组")
    }
    total = sum(Decimal(str(p["补偿金额"])) for p in people)
    assert 170_000 <= total <= 180_000
    assert next(Decimal(str(r[8])) for r in rows if r[0] == "合计") == total
    ids = {p["身份证号码"] for p in people}
    paid_ids = {v for night, _ in plan.nights for r in payments_rows(night) for v in r.values()}
    assert not ids & paid_ids
    night1 = manifest["nights"][0]["findings"]
    assert {
        f["id_number"] for f in night1 if f["rule"] == "MISSING" and f["program_code"] == "LAND_COMP"
    } == ids
    assert [f["program_code"] for f in night1 if f["rule"] == "BATCH_STALLED"] == ["LAND_COMP"]
    assert manifest["seed_cases"]["wuyang"]["amount"] == f"{total:.2f}"


# -- the manifest is the complete truth ---------------------------------------------------------------------------


@pytest.mark.parametrize("night", [1, 2])
def test_manifest_is_exactly_what_the_rule_engine_finds(demo, night):
    """The real rules over the story's canonical data (loaded straight into a warehouse, no readers)
    find exactly the manifest's findings: every rule at least once, nothing unlisted. SHARED_ACCOUNT
    findings are compared on card and person (the engine files them under no program: one clue per card)."""
    _, manifest = demo
    expected = manifest["nights"][night - 1]["findings"]
    got = engine_findings(night)
    shared = got.filter(pl.col("rule") == "SHARED_ACCOUNT")
    others = got.filter(pl.col("rule") != "SHARED_ACCOUNT").to_dicts()
    assert finding_keys(others) == finding_keys(f for f in expected if f["rule"] != "SHARED_ACCOUNT")
    assert set(shared.select("id_number", "period", "card_number").iter_rows()) == {
        (f["id_number"], f["period"], f["card_number"]) for f in expected if f["rule"] == "SHARED_ACCOUNT"
    }
    assert {f["rule"] for f in expected} == {rule.code for rule in load_registry().rules}


@pytest.mark.parametrize("night", [1, 2])
def test_pandas_reference_agrees_with_the_manifest(demo, night):
    """The benchmark's pandas implementation of the issue-2 rules finds exactly the manifest's keys."""
    _, manifest = demo
    reference = load_pandas_reference()
    ent, pay, _ = story_tables(night)
    programs = load_programs()
    cfg = pl.DataFrame(
        [
            {
                "program_code": p.code,
                "grace_days": p.grace_days,
                "reissue_days": p.reissue_days,
                "tolerance": float(p.tolerance),
            }
            for p in programs.programs
        ]
    ).to_pandas()
    to_pd = {
        "amount_due": pl.Float64,
        "amount": pl.Float64,
        "due_date": pl.Datetime("us"),
        "pay_date": pl.Datetime("us"),
    }
    ent_pd = (
        ent.select("id_number", "program_code", "period", "amount_due", "due_date")
        .cast({k: v for k, v in to_pd.items() if k in ("amount_due", "due_date")})
        .to_pandas()
    )
    pay_pd = (
        pay.select("id_number", "program_code", "period", "amount", "pay_date", "status")
        .cast({k: v for k, v in to_pd.items() if k in ("amount", "pay_date")})
        .to_pandas()
    )
    found = reference.reference_findings(ent_pd, pay_pd, cfg, NIGHTS[night - 1])
    expected = manifest["nights"][night - 1]["findings"]
    for rule in reference.RULES:
        keys = {tuple(k) for k in found[rule].itertuples(index=False)}
        assert keys == {
            (f["id_number"], f["program_code"], f["period"]) for f in expected if f["rule"] == rule
        }, rule
