"""Deterministic demo inbox for two nights, with its ground truth.

    python sample_data/generate.py --out DIR [--seed N]

writes DIR/night1/ and DIR/night2/ (each an inbox: roster/, payments/,
reference/deaths/, reference/public_employees/; night 2 holds only the files that
arrived that day) and DIR/manifest.json (beside the inboxes, never inside):
every finding the rules must produce per night, the rows the readers must
reject, the negatives that must stay silent, and the three seed cases.

The files look like what a dozen systems export: .xlsx with a merged title,
"填报单位：（盖章）  单位：元", 合计 and 制表人/审核人 lines; legacy .xls; GBK, GB18030 and
UTF-8-BOM CSV; header aliases, date/period/status spellings and the program or
period only in the title or file name vary from file to file.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from ykt.config import Programs, load_programs
from ykt.sample_data.story import COUNTY, NIGHTS, Story, build_story
from ykt.sample_data.writers import NUMBER_FLAG_PREFIX, Table, total_row, write_csv, write_xls, write_xlsx

DEFAULT_SEED = 20240901
INBOX_DIRS = ("roster", "payments", "reference/deaths", "reference/public_employees")
UNIT_LINE = "填报单位：（盖章）    单位：元"


@dataclass(frozen=True)
class DemoPlan:
    """What `ykt demo` runs: each night's inbox with its as-of date, and where the truth is."""

    nights: tuple[tuple[Path, dt.date], ...]
    manifest_path: Path


# -- value formatting (vectorised) ------------------------------------------------------------------------------


def yuan(fen: pl.Expr, suffix: str = "") -> pl.Expr:
    """Integer fen → '1350.00' (exact, no float)."""
    return (fen // 100).cast(pl.Utf8) + pl.lit(".") + (fen % 100).cast(pl.Utf8).str.zfill(2) + pl.lit(suffix)


DATE_FORMATS = {"iso": "%Y-%m-%d", "slash": "%Y/%-m/%-d", "compact": "%Y%m%d", "cn": "%Y年%-m月%-d日"}


def date_text(col: str, style: str) -> pl.Expr:
    return pl.col(col).dt.strftime(DATE_FORMATS[style])


def period_text(col: str, style: str) -> pl.Expr:
    """Canonical 'YYYY-MM' (or 'YYYY') as a file spells it: iso 2024-07, cn 2024年7月, compact 202407."""
    month = pl.col(col).str.slice(5, 2)
    spelled = {
        "iso": pl.col(col),
        "cn": pl.col(col).str.slice(0, 4)
        + pl.lit("年")
        + month.cast(pl.Int32, strict=False).cast(pl.Utf8)
        + pl.lit("月"),
        "compact": pl.col(col).str.slice(0, 4) + month,
    }[style]
    return pl.when(pl.col(col).str.len_chars() == 4).then(pl.col(col)).otherwise(spelled)


def program_text(programs: Programs, col: str, alias: bool) -> pl.Expr:
    """Program code → its canonical name, or its first alias (the way another system names it)."""
    words = {p.code: (p.aliases[0] if alias and p.aliases else p.name) for p in programs.programs}
    return pl.col(col).replace_strict(words, return_dtype=pl.Utf8)


def seq_column() -> pl.Expr:
    return pl.int_range(1, pl.len() + 1).cast(pl.Utf8)


def frame_of(source: pl.DataFrame, columns: Sequence[tuple[str, pl.Expr]]) -> pl.DataFrame:
    """The file's data rows: one Utf8 column per (header, expression)."""
    return source.select([expr.cast(pl.Utf8).alias(header) for header, expr in columns])


def footer(
    data: pl.DataFrame, amount_header: str, total_fen: int, signer: str
) -> tuple[tuple[str, ...], ...]:
    total = f"{total_fen // 100}.{total_fen % 100:02d}"
    return (total_row(data.columns, amount_header, total), (f"制表人：{signer}    审核人：    制表日期：",))


def sorted_roster(ent: pl.DataFrame) -> pl.DataFrame:
    return ent.sort("township", "village", "group_name", "id_number", "period", nulls_last=True)


# -- rosters ------------------------------------------------------------------------------------------------------


def _write(path: Path, table: Table, encoding: str = "gbk") -> Path:
    """Write by suffix: .xlsx (fast XML writer), .xls (xlwt) or .csv in `encoding`."""
    if path.suffix == ".xlsx":
        return write_xlsx(path, [table])
    if path.suffix == ".xls":
        return write_xls(path, [table])
    return write_csv(path, table, encoding)


def _amount_total(rows: pl.DataFrame) -> int:
    return int(rows.get_column("amount_fen").sum())


def write_dibao_rosters(s: Story, inbox: Path) -> None:
    """城乡低保, one roster a month (.xlsx, .xls, GBK .csv); program and period only in the title."""
    columns = [
        ("序号", seq_column()),
        ("乡镇(街道)", pl.col("township")),
        ("村(社区)", pl.col("village")),
        ("组", pl.col("group_name")),
        ("户主姓名", pl.col("head_name")),
        ("户主身份证号", pl.col("head_id")),
        ("享受人", pl.col("name")),
        ("享受人身份证号", pl.col("id_number")),
        ("收款人姓名", pl.col("payee_name")),
        ("社会保障卡号", pl.col("card_number")),
        ("开户行", pl.col("bank")),
        ("保障金额", yuan(pl.col("amount_fen"))),
    ]
    for month, suffix in zip(("2024-07", "2024-08", "2024-09"), (".xlsx", ".xls", ".csv")):
        rows = sorted_roster(s.ent.filter(pl.col("program_code") == "DIBAO", pl.col("period") == month))
        data = frame_of(rows, columns)
        title = f"{COUNTY}2024年{int(month[5:])}月城乡低保金发放花名册"
        table = Table(
            data,
            (title, UNIT_LINE),
            footer(data, "保障金额", _amount_total(rows), "王秀英"),
            "花名册",
            ("保障金额",),
        )
        _write(inbox / "roster" / f"{title}{suffix}", table)


def write_tekun_roster(s: Story, inbox: Path) -> None:
    """特困供养: one workbook, a sheet per month, each with its own title; a 所属期 column too."""
    columns = [
        ("序号", seq_column()),
        ("所属乡镇", pl.col("township")),
        ("行政村", pl.col("village")),
        ("村民小组", pl.col("group_name")),
        ("对象姓名", pl.col("name")),
        ("公民身份号码", pl.col("id_number")),
        ("银行卡号", pl.col("card_number")),
        ("开户银行", pl.col("bank")),
        ("所属期", period_text("period", "cn")),
        ("补贴金额", yuan(pl.col("amount_fen"))),
    ]
    tables = []
    for month in ("2024-07", "2024-08", "2024-09"):
        rows = sorted_roster(s.ent.filter(pl.col("program_code") == "TEKUN", pl.col("period") == month))
        if month == HEAD_LAYOUT_MONTH:  # this township sends its own roster this month
            rows = rows.filter(pl.col("township") != HEAD_LAYOUT_TOWNSHIP)
        data = frame_of(rows, columns)
        title = f"{COUNTY}2024年{int(month[5:])}月特困人员救助供养金发放表"
        tables.append(
            Table(
                data,
                (title, UNIT_LINE),
                footer(data, "补贴金额", _amount_total(rows), "张德明"),
                f"{int(month[5:])}月",
                ("补贴金额",),
            )
        )
    write_xlsx(inbox / "roster" / f"{COUNTY}特困人员救助供养金发放表（7-9月）.xlsx", tables)


# 黄甸镇 sends September's 特困 roster itself, laid out as many townships keep them: the person is named only
# under 户主姓名 and the ID column has the generic name (特困 households are one person), no card column,
# the program only in the title. The reader takes the one person named as the beneficiary and says so.
HEAD_LAYOUT_TOWNSHIP = "黄甸镇"
HEAD_LAYOUT_MONTH = "2024-09"


def write_township_head_roster(s: Story, inbox: Path) -> None:
    columns = [
        ("序号", seq_column()),
        ("乡镇（街道）", pl.col("township")),
        ("村（社区）", pl.col("village")),
        ("组", pl.col("group_name")),
        ("户主姓名", pl.col("name")),
        ("身份证号码", pl.col("id_number")),
        ("保障期间", period_text("period", "cn")),
        ("保障金额（元）", yuan(pl.col("amount_fen"))),
    ]
    rows = sorted_roster(
        s.ent.filter(
            pl.col("program_code") == "TEKUN",
            pl.col("period") == HEAD_LAYOUT_MONTH,
            pl.col("township") == HEAD_LAYOUT_TOWNSHIP,
        )
    )
    data = frame_of(rows, columns)
    title = f"{HEAD_LAYOUT_TOWNSHIP}2024年{int(HEAD_LAYOUT_MONTH[5:])}月特困人员救助供养金发放花名册"
    table = Table(
        data,
        (title, UNIT_LINE),
        footer(data, "保障金额（元）", _amount_total(rows), "李建华"),
        "Sheet1",
        ("保障金额（元）",),
    )
    write_xlsx(inbox / "roster" / f"{title}.xlsx", [table])


def write_child_roster(s: Story, programs: Programs, inbox: Path) -> None:
    """事实无人抚养儿童: GBK CSV, all three months, guardian as payee, amounts written '1350.00元'."""
    rows = sorted_roster(s.ent.filter(pl.col("program_code") == "CHILD"))
    data = frame_of(
        rows,
        [
            ("序号", seq_column()),
            ("乡镇(街道)", pl.col("township")),
            ("村(社区)", pl.col("village")),
            ("组", pl.col("group_name")),
            ("姓名", pl.col("name")),
            ("身份证号码", pl.col("id_number")),
            ("监护人", pl.col("payee_name")),
            ("监护人身份证号", pl.col("payee_id")),
            ("银行卡号", pl.col("card_number")),
            ("开户银行", pl.col("bank")),
            ("补贴项目", program_text(programs, "program_code", alias=True)),
            ("发放年月", period_text("period", "compact")),
            ("补贴金额", yuan(pl.col("amount_fen"), "元")),
        ],
    )
    title = f"{COUNTY}事实无人抚养儿童基本生活补贴发放名册"
    _write(
        inbox / "roster" / f"{title}.csv",
        Table(data, (title, UNIT_LINE), footer(data, "补贴金额", _amount_total(rows), "李红梅")),
    )


PROVINCIAL_COLUMNS = (
    "序号",
    "支付状态",
    "户主姓名",
    "户主身份证号",
    "收款人姓名",
    "收款人身份证号",
    "银行账号",
    "开户银行",
    "村(居)委会",
    "村(居)民小组",
    "享受人",
    "享受人身份证号",
    "联系电话",
    "现居住地",
    "年龄",
    "补贴金额",
    "填报日期",
)


def write_disabled_provincial(s: Story, inbox: Path) -> None:
    """残疾人两项补贴 for June, July and August as the provincial system exports them (花名册 sheet, no title,
    no township, program and month only in the file name)."""
    for month in ("2024-06", "2024-07", "2024-08"):
        rows = sorted_roster(s.ent.filter(pl.col("program_code") == "DISABLED", pl.col("period") == month))
        exprs = [
            seq_column(),
            pl.lit("待支付"),
            pl.col("name"),
            pl.col("id_number"),
            pl.col("name"),
            pl.col("id_number"),
            pl.col("card_number"),
            pl.col("bank"),
            pl.col("village"),
            pl.col("group_name"),
            pl.col("name"),
            pl.col("id_number"),
            pl.lit("138") + pl.col("id_number").str.slice(10, 8),
            pl.lit(COUNTY) + pl.col("township") + pl.col("village") + pl.col("group_name"),
            2024 - pl.col("id_number").str.slice(6, 4).cast(pl.Int32),
            yuan(pl.col("amount_fen")),
            pl.lit(f"{month}-01"),
        ]
        data = frame_of(rows, list(zip(PROVINCIAL_COLUMNS, exprs)))
        name = f"{COUNTY}残疾人两项补贴_2024年{int(month[5:])}月_花名册.xlsx"
        write_xlsx(
            inbox / "roster" / name,
            [Table(data, sheet="花名册", number_columns=("补贴金额", "年龄"), date_columns=("填报日期",))],
        )


def write_disabled_september(s: Story, inbox: Path) -> list[dict]:
    """September disability roster (not due yet at either night) with two damaged IDs the readers
    must reject: one stored by Excel as a number (5.10723E+17), one with a wrong check digit."""
    rows = sorted_roster(s.ent.filter(pl.col("program_code") == "DISABLED", pl.col("period") == "2024-09"))
    columns = [
        ("序号", seq_column()),
        ("乡镇(街道)", pl.col("township")),
        ("村(社区)", pl.col("village")),
        ("组", pl.col("group_name")),
        ("姓名", pl.col("name")),
        ("身份证号码", pl.col("id_number")),
        ("银行账号", pl.col("card_number")),
        ("开户银行", pl.col("bank")),
        ("补贴金额", yuan(pl.col("amount_fen"))),
    ]
    bad = s.bad.head(2).with_columns(amount_fen=pl.lit(15000, pl.Int64))
    as_number = float(bad.item(0, "id_number").replace("X", "0"))  # Excel keeps 15 significant digits
    damaged = [f"{as_number:.14E}", _wrong_check_digit(bad.item(1, "id_number"))]
    bad = bad.with_columns(id_number=pl.Series(damaged))
    data = pl.concat(
        [
            frame_of(rows, columns),
            frame_of(bad, columns).with_columns(序号=pl.Series([str(rows.height + 1), str(rows.height + 2)])),
        ]
    )
    data = data.with_columns(
        pl.Series(NUMBER_FLAG_PREFIX + "身份证号码", [False] * rows.height + [True, False])
    )
    title = f"{COUNTY}2024年9月残疾人两项补贴发放花名册"
    total = _amount_total(rows) + _amount_total(bad)
    write_xlsx(
        inbox / "roster" / f"{title}.xlsx",
        [
            Table(
                data,
                (title, UNIT_LINE),
                footer(data.drop(NUMBER_FLAG_PREFIX + "身份证号码"), "补贴金额", total, "赵丽"),
                "Sheet1",
                ("补贴金额",),
            )
        ],
    )
    first_bad_row = 2 + 1 + rows.height + 1  # two title lines, the header, the good rows
    file = f"roster/{title}.xlsx"
    return [
        {
            "file": file,
            "sheet": "Sheet1",
            "row": first_bad_row,
            "column": "身份证号码",
            "reason_code": "ID_SCIENTIFIC",
            "note": "身份证号码单元格为数值（Excel 科学计数法），后几位已丢失",
        },
        {
            "file": file,
            "sheet": "Sheet1",
            "row": first_bad_row + 1,
            "column": "身份证号码",
            "reason_code": "ID_CHECKSUM",
            "note": "身份证号码校验位错误",
        },
    ]


def _wrong_check_digit(id_number: str) -> str:
    return id_number[:17] + ("1" if id_number[17] != "1" else "2")


def write_gengdi_roster(s: Story, inbox: Path) -> None:
    """耕地地力保护补贴 2024: GBK CSV, lower-case x in IDs, dates as 2024/5/20, an unknown 面积 column."""
    rows = sorted_roster(s.ent.filter(pl.col("program_code") == "GENGDI"))
    data = frame_of(
        rows,
        [
            ("序号", seq_column()),
            ("所属乡镇", pl.col("township")),
            ("行政村", pl.col("village")),
            ("村民小组", pl.col("group_name")),
            ("补贴对象", pl.col("name")),
            ("身份证号", pl.col("id_number").str.to_lowercase()),
            ("银行账号", pl.col("card_number")),
            ("开户银行", pl.col("bank")),
            ("补贴面积（亩）", pl.col("extra")),
            ("补贴金额", yuan(pl.col("amount_fen"))),
            ("审批日期", date_text("approval_date", "slash")),
            ("补贴年度", pl.col("period")),
        ],
    )
    title = f"{COUNTY}2024年度耕地地力保护补贴发放清册"
    _write(
        inbox / "roster" / f"{title}.csv",
        Table(data, (title, UNIT_LINE), footer(data, "补贴金额", _amount_total(rows), "周建国")),
    )


def write_nongji_roster(s: Story, programs: Programs, inbox: Path) -> None:
    """农机购置补贴 (once): xlsx with real date cells for 审批日期; no period anywhere (the approval month is)."""
    rows = sorted_roster(s.ent.filter(pl.col("program_code") == "NONGJI"))
    data = frame_of(
        rows,
        [
            ("序号", seq_column()),
            ("乡镇(街道)", pl.col("township")),
            ("村(社区)", pl.col("village")),
            ("组", pl.col("group_name")),
            ("姓名", pl.col("name")),
            ("身份证号码", pl.col("id_number")),
            ("机具品目", pl.col("extra")),
            ("项目名称", program_text(programs, "program_code", alias=False)),
            ("补贴金额", yuan(pl.col("amount_fen"))),
            ("银行卡号", pl.col("card_number")),
            ("开户银行", pl.col("bank")),
            ("审批日期", date_text("approval_date", "iso")),
        ],
    )
    title = f"{COUNTY}农机购置补贴资金兑付清册"
    table = Table(
        data,
        (title, UNIT_LINE),
        footer(data, "补贴金额", _amount_total(rows), "陈丽萍"),
        "兑付清册",
        ("补贴金额",),
        ("审批日期",),
    )
    write_xlsx(inbox / "roster" / f"{title}.xlsx", [table])


def write_land_comp_rosters(s: Story, programs: Programs, inbox: Path) -> None:
    """征地拆迁补偿: 武阳社区7组's 提灌站 compensation (xlsx, program only in the title) and 江渔村3组's
    (UTF-8-BOM CSV with a 补偿项目 column, Chinese dates)."""
    stalled = sorted_roster(
        s.ent.filter(pl.col("program_code") == "LAND_COMP", pl.col("village") == "武阳社区")
    )
    data = frame_of(
        stalled,
        [
            ("序号", seq_column()),
            ("所属乡镇", pl.col("township")),
            ("村(居)委会", pl.col("village")),
            ("村民小组", pl.col("group_name")),
            ("被征地人姓名", pl.col("name")),
            ("身份证号码", pl.col("id_number")),
            ("收款账号", pl.col("card_number")),
            ("开户银行", pl.col("bank")),
            ("补偿金额", yuan(pl.col("amount_fen"))),
            ("批准日期", date_text("approval_date", "iso")),
        ],
    )
    title = "江口街道武阳社区7组提灌站拆迁补偿款发放清册"
    write_xlsx(
        inbox / "roster" / f"{title}.xlsx",
        [
            Table(
                data,
                (title, UNIT_LINE),
                footer(data, "补偿金额", _amount_total(stalled), "张萍"),
                "清册",
                ("补偿金额",),
            )
        ],
    )
    paid = sorted_roster(s.ent.filter(pl.col("program_code") == "LAND_COMP", pl.col("village") == "江渔村"))
    data = frame_of(
        paid,
        [
            ("序号", seq_column()),
            ("乡镇(街道)", pl.col("township")),
            ("村(社区)", pl.col("village")),
            ("组", pl.col("group_name")),
            ("姓名", pl.col("name")),
            ("身份证号码", pl.col("id_number")),
            ("银行账号", pl.col("card_number")),
            ("补偿项目", program_text(programs, "program_code", alias=True)),
            ("补偿金额", yuan(pl.col("amount_fen"))),
            ("批准日期", date_text("approval_date", "cn")),
        ],
    )
    title = "江口街道江渔村3组征地补偿款发放清册"
    _write(
        inbox / "roster" / f"{title}.csv",
        Table(data, (title, UNIT_LINE), footer(data, "补偿金额", _amount_total(paid), "吴玉君")),
        encoding="utf-8-sig",
    )


# -- bank disbursement details ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PaymentLayout:
    """How one bank system spells a disbursement detail."""

    headers: tuple[
        str, ...
    ]  # name, id, holder, card, program, period, amount, date, status, reason, township, village, group
    alias: bool  # program as an alias instead of the canonical name
    period_style: str
    date_style: str
    status_words: tuple[str, str]  # (success, failure)
    amount_suffix: str = ""
    return_word: str = "已退款"  # money paid and returned by the bank


LAYOUT_A = (
    "姓名",
    "身份证号码",
    "户名",
    "银行账号",
    "补贴项目",
    "发放期间",
    "发放金额",
    "发放日期",
    "发放状态",
    "失败原因",
    "乡镇(街道)",
    "村(社区)",
    "组",
)
LAYOUT_B = (
    "享受人",
    "证件号码",
    "账户名称",
    "收款账号",
    "资金项目",
    "所属期间",
    "实发金额",
    "支付日期",
    "支付状态",
    "退回原因",
    "所属乡镇",
    "行政村",
    "村民小组",
)
LAYOUT_C = (
    "对象姓名",
    "公民身份号码",
    "收款人",
    "卡号",
    "项目名称",
    "发放年月",
    "交易金额",
    "交易日期",
    "交易状态",
    "备注",
    "乡镇(街道)",
    "村(居)委会",
    "村(居)民小组",
)
LAYOUT_D = (
    "补贴对象",
    "身份证号",
    "户名",
    "社保卡号",
    "补贴类别",
    "所属期",
    "金额(元)",
    "入账日期",
    "处理结果",
    "失败原因",
    "乡镇(街道)",
    "村(社区)",
    "组",
)


@dataclass(frozen=True)
class PaymentFile:
    name: str
    batch: str  # which payments go in it (Story.pay `batch`: pay month, 'reissue', 'night2')
    layout: PaymentLayout
    title: str = ""
    encoding: str = "gbk"  # for CSV


PAYMENT_FILES = (
    PaymentFile(
        "2024年6月惠民惠农补贴代发明细.xlsx",
        "2024-06",
        PaymentLayout(LAYOUT_A, False, "iso", "iso", ("成功", "失败")),
        f"{COUNTY}惠民惠农财政补贴资金“一卡通”代发明细（2024年6月）",
    ),
    PaymentFile(
        "一卡通代发明细_202407.csv",
        "2024-07",
        PaymentLayout(LAYOUT_B, True, "cn", "slash", ("已发放", "已退回")),
        "中国农业银行安和县支行代发明细",
    ),
    PaymentFile(
        "2024年8月代发回盘.xlsx",
        "2024-08",
        PaymentLayout(LAYOUT_C, False, "compact", "compact", ("交易成功", "交易失败")),
        "四川农村信用社安和县联社代发回盘",
    ),
    PaymentFile(
        "代发明细_2024年9月.csv",
        "2024-09",
        PaymentLayout(LAYOUT_A, True, "iso", "cn", ("支付成功", "支付失败"), "元"),
        encoding="utf-8-sig",
    ),
    PaymentFile(
        "更正及补发明细.xls",
        "reissue",
        PaymentLayout(LAYOUT_D, False, "cn", "iso", ("成功", "失败")),
        f"{COUNTY}惠民惠农补贴更正发放及补发明细",
    ),
)
NIGHT2_PAYMENT_FILES = (
    PaymentFile(
        "回盘_20240913.csv",
        "night2",
        PaymentLayout(LAYOUT_B, True, "cn", "slash", ("已发放", "已退回")),
        "中国农业银行安和县支行代发回盘",
        "gb18030",
    ),
)


def payment_frame(rows: pl.DataFrame, layout: PaymentLayout, programs: Programs) -> pl.DataFrame:
    ok, failed = layout.status_words
    exprs = [
        pl.col("name"),
        pl.col("id_number"),
        pl.col("payee_name"),
        pl.col("card_number"),
        program_text(programs, "program_code", layout.alias),
        period_text("period", layout.period_style),
        yuan(pl.col("amount_fen"), layout.amount_suffix),
        date_text("pay_date", layout.date_style),
        pl.when(pl.col("status") == "success")
        .then(pl.lit(ok))
        .when(pl.col("status") == "returned")
        .then(pl.lit(layout.return_word))
        .otherwise(pl.lit(failed)),
        pl.col("failure_reason"),
        pl.col("township"),
        pl.col("village"),
        pl.col("group_name"),
    ]
    ordered = rows.sort(
        "pay_date", "program_code", "township", "village", "group_name", "id_number", "period", "status"
    )
    return frame_of(ordered, list(zip(layout.headers, exprs)))


def write_payment_file(s: Story, programs: Programs, inbox: Path, spec: PaymentFile) -> None:
    data = payment_frame(s.pay.filter(pl.col("batch") == spec.batch), spec.layout, programs)
    title = (spec.title,) if spec.title else ()
    path = inbox / "payments" / spec.name
    headers = spec.layout.headers
    if path.suffix == ".csv":
        _write(path, Table(data, title), spec.encoding)
        return
    dates = (
        (headers[7],) if spec.layout.date_style == "iso" else ()
    )  # ISO-dated systems export real date cells
    _write(path, Table(data, title, sheet="代发明细", number_columns=(headers[6],), date_columns=dates))


# -- reference lists ------------------------------------------------------------------------------------------------


def write_deaths(s: Story, inbox: Path) -> list[dict]:
    """Death register (GBK CSV); its last row's ID was saved by Excel as 5.10723E+17."""
    bad = s.bad.slice(2, 1).with_columns(death_date=pl.lit(dt.date(2024, 6, 2)))
    bad = bad.with_columns(id_number=pl.lit(f"{float(bad.item(0, 'id_number').replace('X', '0')):.5E}"))
    rows = pl.concat([s.deaths.sort("death_date", "id_number"), bad.select(s.deaths.columns)])
    data = frame_of(
        rows,
        [
            ("姓名", pl.col("name")),
            ("身份证号码", pl.col("id_number")),
            ("死亡日期", date_text("death_date", "iso")),
        ],
    )
    title = f"{COUNTY}2024年1-8月死亡人员名单"
    _write(inbox / "reference" / "deaths" / f"{title}.csv", Table(data, (title,)))
    return [
        {
            "file": f"reference/deaths/{title}.csv",
            "sheet": None,
            "row": 1 + 1 + rows.height,
            "column": "身份证号码",
            "reason_code": "ID_SCIENTIFIC",
            "note": "身份证号码为科学计数法文本 5.10723E+17",
        }
    ]


def write_public_employees(s: Story, inbox: Path) -> list[dict]:
    """Public-employee list (xlsx); its last row has a wrong check digit."""
    bad = s.bad.slice(3, 1).with_columns(employer=pl.lit("安和县水务局"))
    bad = bad.with_columns(id_number=pl.lit(_wrong_check_digit(bad.item(0, "id_number"))))
    rows = pl.concat([s.employees.sort("employer", "id_number"), bad.select(s.employees.columns)])
    data = frame_of(
        rows,
        [
            ("序号", seq_column()),
            ("姓名", pl.col("name")),
            ("身份证号码", pl.col("id_number")),
            ("工作单位", pl.col("employer")),
        ],
    )
    title = f"{COUNTY}财政供养人员名单"
    write_xlsx(
        inbox / "reference" / "public_employees" / f"{title}.xlsx", [Table(data, (title,), sheet="名单")]
    )
    return [
        {
            "file": f"reference/public_employees/{title}.xlsx",
            "sheet": "名单",
            "row": 1 + 1 + rows.height,
            "column": "身份证号码",
            "reason_code": "ID_CHECKSUM",
            "note": "身份证号码校验位错误",
        }
    ]


# -- the inboxes, the manifest, the entry points ----------------------------------------------------------------------


def write_night1(s: Story, programs: Programs, inbox: Path) -> list[dict]:
    """Everything that has arrived by night 1. Returns the rows the readers must reject."""
    write_dibao_rosters(s, inbox)
    write_tekun_roster(s, inbox)
    write_township_head_roster(s, inbox)
    write_child_roster(s, programs, inbox)
    write_disabled_provincial(s, inbox)
    rejected = write_disabled_september(s, inbox)
    write_gengdi_roster(s, inbox)
    write_nongji_roster(s, programs, inbox)
    write_land_comp_rosters(s, programs, inbox)
    for spec in PAYMENT_FILES:
        write_payment_file(s, programs, inbox, spec)
    return rejected + write_deaths(s, inbox) + write_public_employees(s, inbox)


def write_night2(s: Story, programs: Programs, inbox: Path) -> None:
    """Only what arrived the day after night 1: the bank's detail with 李安成's payment."""
    for spec in NIGHT2_PAYMENT_FILES:
        write_payment_file(s, programs, inbox, spec)


def _fresh_inbox(path: Path) -> Path:
    """An empty inbox with its four folders (a previous demo's files would change the story)."""
    if path.exists():
        shutil.rmtree(path)
    for sub in INBOX_DIRS:
        (path / sub).mkdir(parents=True, exist_ok=True)
    return path


def _findings_for(s: Story, night: int) -> list[dict]:
    rows = [
        {
            "rule": e.rule,
            "id_number": e.id_number,
            "program_code": e.program_code,
            "period": e.period,
            **({"card_number": e.card_number} if e.card_number else {}),
            "note": e.note,
        }
        for e in s.truth
        if night in e.nights
    ]
    return sorted(rows, key=lambda r: (r["rule"], r["program_code"], r["period"], r["id_number"] or ""))


def _files(inbox: Path) -> list[str]:
    return sorted(p.relative_to(inbox).as_posix() for p in inbox.rglob("*") if p.is_file())


def build_manifest(s: Story, seed: int, inboxes: Sequence[Path], rejected: list[dict]) -> dict:
    nights = []
    for number, (inbox, as_of) in enumerate(zip(inboxes, NIGHTS), start=1):
        findings = _findings_for(s, number)
        nights.append(
            {
                "night": number,
                "inbox": inbox.name,
                "as_of": as_of.isoformat(),
                "files": _files(inbox),
                "counts": dict(sorted(Counter(f["rule"] for f in findings).items())),
                "findings": findings,
            }
        )
    passbooks = [
        dict(zip(["id_number", "program_code", "period"], r), warning="CARD_LUHN")
        for r in s.passbooks.iter_rows()
    ]
    return {
        "generator": "sample_data/generate.py",
        "seed": seed,
        "county": COUNTY,
        "about": "每晚应当产生的全部核对结果（规则、身份证号、项目、期间），应被拒收的行，以及不应报告的反例。"
        "未列出的数据均应正常对平。MISSING 中属于武阳社区7组的268条归入一个 BATCH_STALLED 案件，"
        "属于残疾人两项补贴 2024-06 的归入一个 PROGRAM_STALLED 案件；特困 2024-06 无花名册，只有一条 COVERAGE 记录。",
        "nights": nights,
        "rejected_rows": rejected,
        "warnings": passbooks,
        "negatives": s.negatives,
        "seed_cases": s.seed_cases,
    }


def generate_demo(target: Path, seed: int = DEFAULT_SEED) -> DemoPlan:
    """Write target/night1/, target/night2/ (inboxes) and target/manifest.json; same seed → same files."""
    target = Path(target)
    programs = load_programs()
    story = build_story(seed)
    inboxes = (_fresh_inbox(target / "night1"), _fresh_inbox(target / "night2"))
    rejected = write_night1(story, programs, inboxes[0])
    write_night2(story, programs, inboxes[1])
    manifest = build_manifest(story, seed, inboxes, rejected)
    manifest_path = target / "manifest.json"
    manifest_path.write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return DemoPlan(nights=tuple(zip(inboxes, NIGHTS)), manifest_path=manifest_path)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="生成示例县（安和县）两晚的收件目录和核对真值清单")
    parser.add_argument(
        "--out", type=Path, required=True, help="输出目录（写入 night1/、night2/ 和 manifest.json）"
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"随机种子（默认 {DEFAULT_SEED}）")
    args = parser.parse_args(argv)
    plan = generate_demo(args.out, args.seed)
    for inbox, as_of in plan.nights:
        print(f"{as_of.isoformat()}  {inbox}  ({len(_files(inbox))} 个文件)")
    print(f"真值清单：{plan.manifest_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
