"""Hostile input files, as people really upload them, with what reading must make of them.

Each `case_*` function writes ONE file into a directory and returns a `Case`: the path,
the kind (the inbox folder it belongs in) and the expectations, derived from the rows
the function wrote (never copied from the reader's output). Other stages reuse these
files: the normaliser, ingest and `ykt check` tests can take `Case.tables[i].rows` (the
cell texts per role, as written) and derive their own expectations from them.

    from tests.support.hostile import ALL_CASES
    for make in ALL_CASES:
        case = make(tmp_path)

Expectation vocabulary:
* `ExpectedTable.rows`: one dict per data row, role -> the cell text as a reader shows it
  (numbers as calamine prints them: 1350.0 -> "1350", a date cell -> "2024-03-10 00:00:00").
* `source_rows`: the row numbers as Excel/LibreOffice show them (CSV: line numbers).
* `numeric`: role -> source rows whose cell was a NUMBER cell that looks like a mangled ID/card.
* `detail_sum`: the sum of the amounts written on data rows (compare with `control_total`).
* `error`: the FILE_* reason code when the file must be rejected as a whole.
* `data_rows`: what count_data_rows must return (row accounting of a rejected file).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import xlwt

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def make_id(area: str, birth: str, seq: int) -> str:
    """A valid 18-digit resident ID (GB 11643-1999 check character)."""
    body = f"{area}{birth}{seq:03d}"
    total = sum(int(d) * w for d, w in zip(body, ID_WEIGHTS))
    return body + "10X98765432"[total % 11]


def make_card(seq: int, prefix: str = "622848") -> str:
    """A 19-digit bank card number passing the Luhn check."""
    body = f"{prefix}{seq:012d}"
    digits = [int(d) for d in reversed(body)]
    total = sum(d if i % 2 else (d * 2 - 9 if d * 2 > 9 else d * 2) for i, d in enumerate(digits))
    return body + str((10 - total % 10) % 10)


def id_ending_000() -> str:
    """A VALID ID whose last three characters are 000: text, yet looks like an Excel-mangled number."""
    for day in range(1, 29):
        for seq in range(100, 1000, 100):
            candidate = make_id("510723", f"198005{day:02d}", seq)
            if candidate.endswith("000"):
                return candidate
    raise AssertionError("no such ID")


@dataclass(frozen=True)
class Person:
    name: str
    id_number: str
    card: str


PEOPLE = (
    Person("王建国", make_id("510723", "19560312", 11), make_card(1)),
    Person("李秀英", make_id("510723", "19620704", 22), make_card(2)),
    Person("张伟", make_id("510723", "19781130", 31), make_card(3)),
    Person("刘芳", make_id("510724", "19850215", 42), make_card(4)),
    Person("陈明", make_id("510724", "19900921", 53), make_card(5)),
    Person("杨桂兰", make_id("510725", "19480101", 64), make_card(6)),
    Person("赵德福", make_id("510725", "19530818", 75), make_card(7)),
    Person("周慧", make_id("510726", "20010505", 86), make_card(8)),
)


@dataclass(frozen=True)
class ExpectedTable:
    sheet: str | None
    roles: tuple[str, ...]  # role columns of RawTable.frame (sorted)
    source_rows: tuple[int, ...]
    rows: tuple[dict[str, str | None], ...]
    control_total: Decimal | None = None
    detail_sum: Decimal | None = None
    program_hint: str | None = None
    period_hint: str | None = None
    numeric: dict[str, tuple[int, ...]] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)  # selected role -> header as written
    positions: dict[str, int] = field(default_factory=dict)  # role -> 0-based column it was written in


@dataclass(frozen=True)
class Case:
    name: str
    path: Path
    kind: str
    tables: tuple[ExpectedTable, ...] = ()
    error: str | None = None  # FILE_* code when rejected as a whole
    error_mentions: tuple[str, ...] = ()  # texts the error message must contain
    data_rows: int | None = None  # count_data_rows(path)


# -- writing sheets ------------------------------------------------------------------------


def shown(value: Any) -> str | None:
    """The text a calamine reader shows for a cell value we wrote."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


class Sheet:
    """A sheet written top to bottom; data rows remember what reading must return for them."""

    def __init__(self, name: str | None = None, roles: tuple[str | None, ...] = ()):
        self.name = name
        self.roles = roles  # role of each column (None = ignored column)
        self.lines: list[list[Any]] = []
        self.merges: list[
            tuple[int, int, int, int]
        ] = []  # first_row, first_col, last_row, last_col (1-based rows)
        self.data_rows: list[int] = []
        self.expected: list[dict[str, str | None]] = []

    def line(self, *cells: Any) -> int:
        """A non-data line (title, header, total, signature, blank). Returns its row number."""
        self.lines.append(list(cells))
        return len(self.lines)

    def data(self, *cells: Any, also: dict[str, str | None] | None = None) -> int:
        """A data row; `also` adds/overrides expected values (merged cells, head as beneficiary)."""
        row = self.line(*cells)
        record = {role: shown(cell) for role, cell in zip(self.roles, cells) if role}
        record.update({role: None for role in self.roles if role and role not in record})
        record.update(also or {})
        self.data_rows.append(row)
        self.expected.append(record)
        return row

    def merge(self, first_row: int, first_col: int, last_row: int, last_col: int) -> None:
        self.merges.append((first_row, first_col, last_row, last_col))

    def amounts(self, role: str = "amount") -> Decimal:
        return sum((Decimal(r[role]) for r in self.expected if r.get(role)), Decimal(0))

    def table(self, **kwargs: Any) -> ExpectedTable:
        roles = tuple(sorted({k for r in self.expected for k in r}))
        positions = {role: i for i, role in enumerate(self.roles) if role} | kwargs.pop("positions", {})
        return ExpectedTable(
            self.name, roles, tuple(self.data_rows), tuple(self.expected), positions=positions, **kwargs
        )


def write_xlsx(path: Path, sheets: list[Sheet], hidden: tuple[str, ...] = ()) -> Path:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for sheet in sheets:
        ws = book.create_sheet(sheet.name or "Sheet1")
        for r, cells in enumerate(sheet.lines, start=1):
            for c, value in enumerate(cells, start=1):
                if value is not None:
                    ws.cell(row=r, column=c, value=value)
        for r1, c1, r2, c2 in sheet.merges:
            ws.merge_cells(start_row=r1, start_column=c1 + 1, end_row=r2, end_column=c2 + 1)
        if sheet.name in hidden:
            ws.sheet_state = "hidden"
    book.save(path)
    return path


def write_xls(path: Path, sheets: list[Sheet]) -> Path:
    book = xlwt.Workbook(encoding="utf-8")
    for sheet in sheets:
        ws = book.add_sheet(sheet.name or "Sheet1")
        inside_merge = {
            (r, c) for r1, c1, r2, c2 in sheet.merges for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)
        }
        for r1, c1, r2, c2 in sheet.merges:
            cells = sheet.lines[r1 - 1]
            ws.write_merge(r1 - 1, r2 - 1, c1, c2, cells[c1] if c1 < len(cells) else None)
        for r, cells in enumerate(sheet.lines, start=1):
            for c, value in enumerate(cells):
                if value is not None and (r, c) not in inside_merge:
                    ws.write(r - 1, c, value)
    book.save(str(path))
    return path


def write_csv(path: Path, sheet: Sheet, encoding: str, newline: str = "\r\n", separator: str = ",") -> Path:
    text = (
        newline.join(separator.join("" if v is None else str(v) for v in cells) for cells in sheet.lines)
        + newline
    )
    path.write_bytes(text.encode(encoding))
    return path


# -- the cases -------------------------------------------------------------------------------

PAYMENT_ROLES = ("name", "id_number", "card_number", "amount", "pay_date", "status", "failure_reason")
PAYMENT_HEADER = ("姓名", "身份证号码", "银行卡号", "实发金额", "发放日期", "发放状态", "备注")


def case_gbk_csv(directory: Path) -> Case:
    """A bank's disbursement detail as GBK CSV with CRLF; program and period only in the file name."""
    sheet = Sheet(None, PAYMENT_ROLES)
    sheet.line(*PAYMENT_HEADER)
    for i, p in enumerate(PEOPLE[:5]):
        status = "失败" if i == 2 else "成功"
        sheet.data(
            p.name, p.id_number, p.card, "1350.00", "2024-03-10", status, "卡号已注销" if i == 2 else None
        )
    path = write_csv(directory / "城乡低保_202403_代发明细.csv", sheet, "gbk")
    table = sheet.table(
        program_hint="DIBAO", period_hint="2024-03", headers={"id_number": "身份证号码", "amount": "实发金额"}
    )
    return Case("gbk_csv", path, "payments", (table,), data_rows=5)


def case_utf8_bom_csv(directory: Path) -> Case:
    """A roster as UTF-8 CSV with BOM; program and period are columns, so no hint is needed."""
    roles = ("program", "period", "name", "id_number", "amount", "village")
    sheet = Sheet(None, roles)
    sheet.line("补贴项目", "发放期间", "姓名", "身份证号码", "应发金额", "村（社区）")
    for p in PEOPLE[:4]:
        sheet.data("城乡低保", "2024年3月", p.name, p.id_number, "1350", "万安社区")
    path = write_csv(directory / "roster_export.csv", sheet, "utf-8-sig", newline="\n")
    return Case("utf8_bom_csv", path, "roster", (sheet.table(),), data_rows=4)


def case_utf8_csv_even_runs(directory: Path) -> Case:
    """UTF-8 without BOM where every Chinese run has an even length: it ALSO decodes as GB18030
    (to mojibake), so trying GB18030 first would silently garble it."""
    roles = ("name", "id_number", "amount", "approval_date")
    sheet = Sheet(None, roles)
    sheet.line("姓名", "身份证号", "补贴金额", "审批日期")
    for name, p in zip(("王芳", "李娜", "张敏"), PEOPLE):
        sheet.data(name, p.id_number, "200", "2024-05-06")
    path = write_csv(directory / "农机补贴_2024年5月.csv", sheet, "utf-8", newline="\n")
    table = sheet.table(program_hint="NONGJI", period_hint="2024-05")
    return Case("utf8_csv_even_runs", path, "roster", (table,), data_rows=3)


def case_tab_separated_txt(directory: Path) -> Case:
    """A bank TXT export: tab-separated GB18030 with a title line and a unit line above the header."""
    sheet = Sheet(None, PAYMENT_ROLES)
    sheet.line("盐亭县2024年3月残疾人两项补贴代发明细")
    sheet.line("单位：元")
    sheet.line(*PAYMENT_HEADER)
    for p in PEOPLE[:3]:
        sheet.data(p.name, p.id_number, p.card, "90.00", "20240315", "成功", None)
    path = write_csv(directory / "daifa.txt", sheet, "gb18030", separator="\t")
    return Case(
        "tab_separated_txt",
        path,
        "payments",
        (sheet.table(program_hint="DISABLED", period_hint="2024-03"),),
        data_rows=3,
    )


def case_legacy_xls(directory: Path) -> Case:
    """A legacy BIFF .xls: merged title, blank line, header on row 3; program/period in the title."""
    roles = (None, "name", "id_number", "card_number", "amount", "township")
    sheet = Sheet("Sheet1", roles)
    sheet.line("盐亭县2024年第一季度特困人员救助供养金发放花名册")
    sheet.merge(1, 0, 1, 5)
    sheet.line()
    sheet.line("序号", "姓名", "身份证号码", "社保卡号", "发放金额", "乡镇（街道）")
    for i, p in enumerate(PEOPLE[:4], start=1):
        sheet.data(i, p.name, p.id_number, p.card, "2150.00", "凤灵街道")
    path = write_xls(directory / "特困供养.xls", [sheet])
    table = sheet.table(program_hint="TEKUN", period_hint="2024-Q1")
    return Case("legacy_xls", path, "roster", (table,), data_rows=4)


def case_title_unit_line(directory: Path) -> Case:
    """Merged title, a '填报单位：（盖章） 填报日期 … 单位：元' line, numeric amounts, a 合计 row
    that matches, a blank row, a signature line (whose date must not become the period) and an
    empty, unmerged 组 cell (it stays empty)."""
    roles = (None, "name", "id_number", "amount", "village", "group_name")
    sheet = Sheet("低保", roles)
    sheet.line("盐亭县2024年3月城乡低保金发放花名册")
    sheet.merge(1, 0, 1, 5)
    sheet.line("填报单位：（盖章）", None, "填报日期：2024年4月2日", None, "单位：元")
    sheet.line("序号", "姓名", "身份证号码", "补贴金额（元）", "村（社区）", "组")
    amounts = (1350.0, 1350.0, 990.5, 620.0)
    for i, (p, amount) in enumerate(zip(PEOPLE, amounts), start=1):
        # row 3 has an empty 组 cell that is NOT merged: it must stay empty
        sheet.data(i, p.name, p.id_number, amount, "万安社区", None if i == 3 else f"{i}组")
    sheet.line()
    sheet.line("合  计", None, None, sum(amounts))
    sheet.line("制表人：王五", None, "审核人：赵六", None, "制表日期：2024年5月6日")
    path = write_xlsx(directory / "花名册.xlsx", [sheet])
    table = sheet.table(
        control_total=Decimal("4310.5"),
        detail_sum=sheet.amounts(),
        program_hint="DIBAO",
        period_hint="2024-03",
        headers={"amount": "补贴金额（元）"},
    )
    return Case("title_unit_line", path, "roster", (table,), data_rows=4)


def case_two_row_header(directory: Path) -> Case:
    """Two-row header: 享受人 over 姓名/身份证号码, 收款人信息 over 姓名/身份证号码/银行账号,
    金额 and 村 merged down over both rows."""
    roles = (None, "name", "id_number", "payee_name", "payee_id", "card_number", "amount", "village")
    sheet = Sheet("Sheet1", roles)
    sheet.line("2024年3月事实无人抚养儿童基本生活补贴发放花名册")
    sheet.merge(1, 0, 1, 7)
    sheet.line("序号", "享受人", None, "收款人信息", None, None, "补贴金额", "村（居）委会")
    sheet.line(None, "姓名", "身份证号码", "姓名", "身份证号码", "银行账号")
    sheet.merge(2, 0, 3, 0)
    sheet.merge(2, 1, 2, 2)
    sheet.merge(2, 3, 2, 5)
    sheet.merge(2, 6, 3, 6)
    sheet.merge(2, 7, 3, 7)
    child, guardian = PEOPLE[7], PEOPLE[5]
    sheet.data(
        1, child.name, child.id_number, guardian.name, guardian.id_number, guardian.card, "1350", "永安村"
    )
    sheet.data(
        2,
        PEOPLE[6].name,
        PEOPLE[6].id_number,
        PEOPLE[6].name,
        PEOPLE[6].id_number,
        PEOPLE[6].card,
        "1350",
        "永安村",
    )
    path = write_xlsx(directory / "儿童补贴.xlsx", [sheet])
    table = sheet.table(
        program_hint="CHILD",
        period_hint="2024-03",
        headers={
            "name": "享受人/姓名",
            "payee_name": "收款人信息/姓名",
            "card_number": "收款人信息/银行账号",
        },
    )
    return Case("two_row_header", path, "roster", (table,), data_rows=2)


def case_amount_split_under_parent(directory: Path) -> Case:
    """A bank detail whose 金额 header sits over 应发 and 实发: the lower header row is not data,
    and the payments amount is what was actually paid (实发)."""
    roles = ("name", "id_number", None, "amount", "pay_date", "status")
    sheet = Sheet("Sheet1", roles)
    sheet.line("姓名", "身份证号码", "金额", None, "发放日期", "发放状态")
    sheet.line(None, None, "应发", "实发")
    for col in (0, 1, 4, 5):
        sheet.merge(1, col, 2, col)
    sheet.merge(1, 2, 1, 3)
    sheet.data(PEOPLE[0].name, PEOPLE[0].id_number, "1350", "1300", "2024-03-10", "成功")
    sheet.data(PEOPLE[1].name, PEOPLE[1].id_number, "1350", "1350", "2024-03-10", "成功")
    path = write_xlsx(directory / "低保_2024年3月_代发.xlsx", [sheet])
    table = sheet.table(program_hint="DIBAO", period_hint="2024-03", headers={"amount": "金额/实发"})
    return Case("amount_split_under_parent", path, "payments", (table,), data_rows=2)


def _total_case(directory: Path, name: str, written_total: str) -> tuple[Sheet, Path]:
    roles = ("name", "id_number", "amount", "approval_date")
    sheet = Sheet("Sheet1", roles)
    sheet.line("2024年度耕地地力保护补贴发放清册")
    sheet.line("姓名", "身份证号码", "补贴金额", "审批日期")
    for p, amount in zip(PEOPLE[:3], ("312.40", "1,088.00", "95.60")):
        sheet.data(p.name, p.id_number, amount, "2024-04-01")
    sheet.line("合计", None, written_total)
    return sheet, write_xlsx(directory / f"{name}.xlsx", [sheet])


def case_total_right(directory: Path) -> Case:
    """A 合计 row equal to the sum of the detail rows (one amount written with a thousands comma)."""
    sheet, path = _total_case(directory, "耕地补贴_合计正确", "1,496.00")
    detail = Decimal("312.40") + Decimal("1088.00") + Decimal("95.60")
    table = sheet.table(
        control_total=Decimal("1496.00"), detail_sum=detail, program_hint="GENGDI", period_hint="2024"
    )
    return Case("total_right", path, "roster", (table,), data_rows=3)


def case_total_wrong(directory: Path) -> Case:
    """A 合计 row that does NOT match the detail rows: reading keeps it, ingest must report it."""
    sheet, path = _total_case(directory, "耕地补贴_合计错误", "1596.00")
    detail = Decimal("312.40") + Decimal("1088.00") + Decimal("95.60")
    table = sheet.table(
        control_total=Decimal("1596.00"), detail_sum=detail, program_hint="GENGDI", period_hint="2024"
    )
    return Case("total_wrong", path, "roster", (table,), data_rows=3)


def case_subtotals(directory: Path) -> Case:
    """小计 after each village and a 总计 at the end; village cells merged down over their people."""
    roles = ("village", "name", "id_number", "amount")
    sheet = Sheet("Sheet1", roles)
    sheet.line("2024年4月残疾人两项补贴发放花名册")
    sheet.line("村（社区）", "姓名", "身份证号码", "补贴金额")
    total = Decimal(0)
    for village, people in (("万安社区", PEOPLE[:3]), ("武阳社区", PEOPLE[3:5])):
        first = None
        for p in people:
            row = sheet.data(
                village if first is None else None, p.name, p.id_number, "90", also={"village": village}
            )
            first = first or row
        sheet.merge(first, 0, row, 0)
        sheet.line(f"{village}小计", None, None, str(90 * len(people)))  # label at the END of the cell
        total += 90 * len(people)
    sheet.line("总计", None, None, str(total))
    path = write_xlsx(directory / "残疾人补贴.xlsx", [sheet])
    table = sheet.table(
        control_total=total, detail_sum=sheet.amounts(), program_hint="DISABLED", period_hint="2024-04"
    )
    return Case("subtotals", path, "roster", (table,), data_rows=5)


def case_subtotals_only(directory: Path) -> Case:
    """Only 小计 rows and a 本页合计 page total, no grand total: the control total is the sum
    of the 小计 rows (a page total would double count)."""
    roles = ("name", "id_number", "amount")
    sheet = Sheet("Sheet1", roles)
    sheet.line("姓名", "身份证号码", "补贴金额")
    sheet.data(PEOPLE[0].name, PEOPLE[0].id_number, "100")
    sheet.line("小计", None, "100")
    sheet.data(PEOPLE[1].name, PEOPLE[1].id_number, "250")
    sheet.line("小 计", None, "250")
    sheet.line("本页合计", None, "999")  # a page total: skipped, never the control total
    path = write_xlsx(directory / "低保金_2024年6月.xlsx", [sheet])
    table = sheet.table(
        control_total=Decimal(350), detail_sum=Decimal(350), program_hint="DIBAO", period_hint="2024-06"
    )
    return Case("subtotals_only", path, "roster", (table,), data_rows=2)


def case_signature_lines(directory: Path) -> Case:
    """Signature and note lines under a payments table; a data row whose 备注 says '经办人代领'
    stays data (it carries an ID), real date cells arrive as text with a time."""
    sheet = Sheet("代发明细", PAYMENT_ROLES)
    sheet.line(*PAYMENT_HEADER)
    paid = dt.datetime(2024, 3, 10)
    for i, p in enumerate(PEOPLE[:3]):
        sheet.data(p.name, p.id_number, p.card, "1350", paid, "成功", "经办人代领" if i == 1 else None)
    sheet.line()
    sheet.line("制表人：张三", None, "审核人：李四")
    sheet.line("经办人：王五", None, "负责人：赵六")
    sheet.line("注：本表一式三份")
    path = write_xlsx(directory / "2024年3月低保金代发明细.xlsx", [sheet])
    table = sheet.table(program_hint="DIBAO", period_hint="2024-03")
    return Case("signature_lines", path, "payments", (table,), data_rows=3)


def case_blank_rows(directory: Path) -> Case:
    """Blank rows in the middle, a header repeated after a page break, and template rows at the
    end with only a 序号 prefilled."""
    roles = (None, "name", "id_number", "amount", "approval_date")
    header = ("序号", "姓名", "身份证号码", "补贴金额", "审批日期")
    sheet = Sheet("Sheet1", roles)
    sheet.line(*header)
    sheet.data(1, PEOPLE[0].name, PEOPLE[0].id_number, "200", "2024-05-02")
    sheet.line()
    sheet.line()
    sheet.data(2, PEOPLE[1].name, PEOPLE[1].id_number, "200", "2024-05-02")
    sheet.line(*header)  # header repeated after a page break
    sheet.line(None, "  ", None, None)
    sheet.data(3, PEOPLE[2].name, PEOPLE[2].id_number, "200", "2024-05-02")
    for n in range(4, 8):
        sheet.line(n)
    path = write_xlsx(directory / "农机购置补贴_2024年5月.xlsx", [sheet])
    table = sheet.table(program_hint="NONGJI", period_hint="2024-05")
    return Case("blank_rows", path, "roster", (table,), data_rows=3)


def case_sheets(directory: Path) -> Case:
    """A notes sheet, an empty sheet, a hidden sheet and two data sheets (one per month)."""
    notes = Sheet("填表说明")
    notes.line("填表说明：")
    notes.line("1. 身份证号码请设为文本格式")
    empty = Sheet("Sheet3")
    roles = ("name", "id_number", "amount")
    months = []
    for month in (1, 2):
        sheet = Sheet(f"{month}月", roles)
        sheet.line(f"2024年{month}月城乡低保金发放花名册")
        sheet.line("姓名", "身份证号码", "补贴金额")
        for p in PEOPLE[month : month + 2]:
            sheet.data(p.name, p.id_number, "1350")
        months.append(sheet)
    hidden = Sheet("旧数据", roles)
    hidden.line("2023年12月城乡低保金发放花名册")
    hidden.line("姓名", "身份证号码", "补贴金额")
    hidden.line(PEOPLE[0].name, PEOPLE[0].id_number, "1350")
    path = write_xlsx(directory / "低保花名册_多表.xlsx", [notes, empty, *months, hidden], hidden=("旧数据",))
    tables = tuple(s.table(program_hint="DIBAO", period_hint=f"2024-0{m}") for m, s in zip((1, 2), months))
    return Case("sheets", path, "roster", tables, data_rows=4)


def case_unknown_headers(directory: Path) -> Case:
    """Headers nobody registered (名字, 身份号码, 钱数): rejected with the headers found and the closest."""
    sheet = Sheet("Sheet1")
    sheet.line("名字", "身份号码", "钱数")
    for p in PEOPLE[:3]:
        sheet.line(p.name, p.id_number, "100")
    path = write_xlsx(directory / "低保_2024年3月.xlsx", [sheet])
    return Case(
        "unknown_headers",
        path,
        "roster",
        error="FILE_HEADERS_UNKNOWN",
        error_mentions=("名字", "身份号码", "钱数", "身份证号码"),
        data_rows=4,
    )


PROVINCIAL_HEADER = (
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
PROVINCIAL_ROLES = (
    None,
    None,
    "head_name",
    "head_id",
    "payee_name",
    "payee_id",
    "card_number",
    "bank",
    "village",
    "group_name",
    "name",
    "id_number",
    None,
    None,
    None,
    "amount",
    None,
)


def _provincial_sheet() -> Sheet:
    sheet = Sheet("花名册", PROVINCIAL_ROLES)
    sheet.line(*PROVINCIAL_HEADER)
    head = PEOPLE[0]
    for i, member in enumerate(PEOPLE[:3], start=1):
        sheet.data(
            i,
            "已支付",
            head.name,
            head.id_number,
            head.name,
            head.id_number,
            head.card,
            "中国农业银行",
            "万安社区",
            "3组",
            member.name,
            member.id_number,
            "13800000000",
            "万安社区3组",
            60 + i,
            "456.00",
            "2024-03-01",
        )
    return sheet


def case_provincial_export(directory: Path) -> Case:
    """The provincial system's export exactly as downloaded (花名册.xlsx): columns are read as-is,
    but nothing names the program, so the file is rejected and the clerk told to name it."""
    sheet = _provincial_sheet()
    path = write_xlsx(directory / "花名册.xlsx", [sheet])
    return Case(
        "provincial_export",
        path,
        "roster",
        error="FILE_PROGRAM_UNKNOWN",
        error_mentions=("文件名",),
        data_rows=3,
    )


def case_provincial_export_named(directory: Path) -> Case:
    """The same export renamed by the clerk to carry program and period: read as a roster,
    享受人 = beneficiary, 支付状态/联系电话/现居住地/年龄/填报日期 ignored."""
    sheet = _provincial_sheet()
    sub = directory / "named"
    sub.mkdir(exist_ok=True)
    path = write_xlsx(sub / "城乡低保2024年3月花名册.xlsx", [sheet])
    table = sheet.table(
        program_hint="DIBAO",
        period_hint="2024-03",
        headers={"name": "享受人", "id_number": "享受人身份证号", "head_name": "户主姓名"},
    )
    return Case("provincial_export_named", path, "roster", (table,), data_rows=3)


def _excel_number(digits: str) -> float:
    """What Excel stores when an ID/card is typed as a number: 15 significant digits."""
    return float(int(digits[:15]) * 10 ** (len(digits) - 15))


def _numeric_sheet() -> tuple[Sheet, dict[str, tuple[int, ...]]]:
    roles = ("name", "id_number", "card_number", "amount")
    sheet = Sheet("Sheet1", roles)
    sheet.line("2024年3月城乡低保金发放花名册")
    sheet.line("姓名", "身份证号码", "银行卡号", "补贴金额")
    text_000 = id_ending_000()
    sheet.data(PEOPLE[0].name, PEOPLE[0].id_number, PEOPLE[0].card, "1350")  # all text
    id_row = sheet.data(PEOPLE[1].name, _excel_number(PEOPLE[1].id_number), PEOPLE[1].card, "1350")
    sheet.data("孙丽", text_000, PEOPLE[2].card, "1350")  # text, ends 000
    card_row = sheet.data(PEOPLE[3].name, PEOPLE[3].id_number, _excel_number(PEOPLE[3].card), "1350")
    sheet.data(PEOPLE[4].name, "5.10724E+17", PEOPLE[4].card, "1350")  # text, scientific
    return sheet, {"id_number": (id_row,), "card_number": (card_row,)}


def case_numeric_ids_xlsx(directory: Path) -> Case:
    """An ID and a card typed as numbers (Excel kept 15 digits) next to a TEXT ID ending in 000:
    only the number cells are flagged."""
    sheet, numeric = _numeric_sheet()
    path = write_xlsx(directory / "低保_数字身份证.xlsx", [sheet])
    table = sheet.table(program_hint="DIBAO", period_hint="2024-03", numeric=numeric)
    return Case("numeric_ids_xlsx", path, "roster", (table,), data_rows=5)


def case_full_precision_number_xlsx(directory: Path) -> Case:
    """An ID stored as a number with all 18 digits (a program, not Excel, wrote it): a double cannot
    hold 18 digits either, so the text read back differs from what was typed; still a NUMBER cell."""
    sheet = Sheet("Sheet1", ("name", "id_number", "amount"))
    sheet.line("姓名", "身份证号码", "补贴金额")
    sheet.data(PEOPLE[0].name, PEOPLE[0].id_number, "1350")
    typed = int(PEOPLE[3].id_number)  # an ID without an X check character
    row = sheet.data(PEOPLE[3].name, typed, "1350", also={"id_number": str(int(float(typed)))})
    path = write_xlsx(directory / "低保_2024年3月_程序导出.xlsx", [sheet])
    table = sheet.table(program_hint="DIBAO", period_hint="2024-03", numeric={"id_number": (row,)})
    return Case("full_precision_number_xlsx", path, "roster", (table,), data_rows=2)


def case_numeric_ids_xls(directory: Path) -> Case:
    """The same as numeric_ids_xlsx in a legacy .xls (cell types read with python-calamine)."""
    sheet, numeric = _numeric_sheet()
    path = write_xls(directory / "低保_数字身份证.xls", [sheet])
    table = sheet.table(program_hint="DIBAO", period_hint="2024-03", numeric=numeric)
    return Case("numeric_ids_xls", path, "roster", (table,), data_rows=5)


def case_numeric_ids_csv(directory: Path) -> Case:
    """A CSV saved from a sheet whose ID column held numbers: every ID lost its last digits
    (…000, or 5.10723E+17 in General format). The …000 ones are flagged; the scientific one is
    left to the normaliser's own pattern."""
    roles = ("name", "id_number", "amount")
    sheet = Sheet(None, roles)
    sheet.line("姓名", "身份证号码", "补贴金额")
    rows = [sheet.data(p.name, p.id_number[:15] + "000", "1350") for p in PEOPLE[:3]]
    sheet.data(PEOPLE[3].name, "5.10724E+17", "1350")
    path = write_csv(directory / "低保_202403_数字.csv", sheet, "gbk")
    table = sheet.table(program_hint="DIBAO", period_hint="2024-03", numeric={"id_number": tuple(rows)})
    return Case("numeric_ids_csv", path, "roster", (table,), data_rows=4)


def case_text_ids_csv_000(directory: Path) -> Case:
    """A bank CSV of text IDs where one genuine ID ends in 000: it must NOT be flagged as a number.
    (户名 is the account holder: payee_name in a payments file.)"""
    sheet = Sheet(None, ("payee_name", "id_number", "amount", "pay_date", "status"))
    sheet.line("户名", "证件号码", "交易金额", "交易日期", "交易状态")
    for p in PEOPLE[:6]:
        sheet.data(p.name, p.id_number, "1350", "20240310", "成功")
    sheet.data("孙丽", id_ending_000(), "1350", "20240310", "成功")
    path = write_csv(directory / "低保_202403_银行.csv", sheet, "gbk")
    table = sheet.table(program_hint="DIBAO", period_hint="2024-03")
    return Case("text_ids_csv_000", path, "payments", (table,), data_rows=7)


def case_hint_in_file_name(directory: Path) -> Case:
    """No title: the program (an alias) and the period (2024年度) come from the file name."""
    roles = ("name", "id_number", "amount", "approval_date")
    sheet = Sheet("Sheet1", roles)
    sheet.line("姓名", "身份证号码", "补贴金额", "审批日期")
    for p in PEOPLE[:2]:
        sheet.data(p.name, p.id_number, "520.00", "2024-04-01")
    path = write_xlsx(directory / "种粮补贴_2024年度.xlsx", [sheet])
    table = sheet.table(program_hint="GENGDI", period_hint="2024")
    return Case("hint_in_file_name", path, "roster", (table,), data_rows=2)


def case_two_programs_in_title(directory: Path) -> Case:
    """A title naming two programs and no program column: rejected, not guessed."""
    sheet = Sheet("Sheet1", ("name", "id_number", "amount"))
    sheet.line("2024年3月城乡低保金及特困人员救助供养金发放花名册")
    sheet.line("姓名", "身份证号码", "补贴金额")
    sheet.data(PEOPLE[0].name, PEOPLE[0].id_number, "1350")
    path = write_xlsx(directory / "合并发放.xlsx", [sheet])
    return Case(
        "two_programs_in_title",
        path,
        "roster",
        error="FILE_PROGRAM_AMBIGUOUS",
        error_mentions=("城乡居民最低生活保障金", "特困人员救助供养金"),
        data_rows=1,
    )


def case_payments_without_period(directory: Path) -> Case:
    """A payments file with a program in the title but no period anywhere: rejected."""
    sheet = Sheet("Sheet1", PAYMENT_ROLES)
    sheet.line("城乡低保金代发明细")
    sheet.line(*PAYMENT_HEADER)
    sheet.data(PEOPLE[0].name, PEOPLE[0].id_number, PEOPLE[0].card, "1350", "2024-03-10", "成功")
    path = write_xlsx(directory / "代发明细.xlsx", [sheet])
    return Case("payments_without_period", path, "payments", error="FILE_PERIOD_UNKNOWN", data_rows=1)


def case_once_program_without_period(directory: Path) -> Case:
    """A roster of a one-off program (农机购置补贴) without a period: allowed (approval month used)."""
    roles = ("name", "id_number", "amount", "approval_date")
    sheet = Sheet("Sheet1", roles)
    sheet.line("凤灵街道农机购置补贴发放清册")
    sheet.line("姓名", "身份证号码", "补贴金额", "批准日期")
    sheet.data(PEOPLE[2].name, PEOPLE[2].id_number, "200", "2024-03-20")
    path = write_xlsx(directory / "农机.xlsx", [sheet])
    return Case(
        "once_program_without_period", path, "roster", (sheet.table(program_hint="NONGJI"),), data_rows=1
    )


def case_household_head_only(directory: Path) -> Case:
    """A household-program roster naming only the household head: the head is the beneficiary."""
    roles = ("head_name", "head_id", None, "amount", "approval_date")
    sheet = Sheet("Sheet1", roles)
    sheet.line("2024年度耕地地力保护补贴花名册")
    sheet.line("户主姓名", "户主身份证号码", "家庭人口", "补贴金额", "审批日期")
    for p in PEOPLE[:3]:
        sheet.data(
            p.name, p.id_number, "4", "388.50", "2024-04-01", also={"name": p.name, "id_number": p.id_number}
        )
    path = write_xlsx(directory / "耕地补贴_户主.xlsx", [sheet])
    table = sheet.table(
        program_hint="GENGDI",
        period_hint="2024",
        headers={"name": "户主姓名", "id_number": "户主身份证号码"},
        positions={"name": 0, "id_number": 1},
    )
    return Case("household_head_only", path, "roster", (table,), data_rows=3)


def case_deaths_register(directory: Path) -> Case:
    """The death register (reference data) as GB18030 CSV: no program or period needed."""
    sheet = Sheet(None, ("name", "id_number", "death_date"))
    sheet.line("姓名", "身份证号码", "死亡日期")
    for p, day in zip(PEOPLE[5:7], ("2024-01-15", "2023-11-02")):
        sheet.data(p.name, p.id_number, day)
    path = write_csv(directory / "死亡名单.csv", sheet, "gb18030")
    return Case("deaths_register", path, "deaths", (sheet.table(),), data_rows=2)


def case_public_employees(directory: Path) -> Case:
    """The public-employee list (reference data) as xlsx with a title."""
    sheet = Sheet("Sheet1", ("name", "id_number", "employer"))
    sheet.line("财政供养人员名单")
    sheet.line("姓名", "身份证号码", "工作单位")
    sheet.data(PEOPLE[4].name, PEOPLE[4].id_number, "盐亭县凤灵街道办事处")
    path = write_xlsx(directory / "财政供养人员.xlsx", [sheet])
    return Case("public_employees", path, "public_employees", (sheet.table(),), data_rows=1)


def case_empty_workbook(directory: Path) -> Case:
    """A workbook whose only sheet is empty."""
    path = write_xlsx(directory / "空白.xlsx", [Sheet("Sheet1")])
    return Case("empty_workbook", path, "roster", error="FILE_EMPTY", data_rows=0)


ALL_CASES: tuple[Callable[[Path], Case], ...] = (
    case_gbk_csv,
    case_utf8_bom_csv,
    case_utf8_csv_even_runs,
    case_tab_separated_txt,
    case_legacy_xls,
    case_title_unit_line,
    case_two_row_header,
    case_amount_split_under_parent,
    case_total_right,
    case_total_wrong,
    case_subtotals,
    case_subtotals_only,
    case_signature_lines,
    case_blank_rows,
    case_sheets,
    case_unknown_headers,
    case_provincial_export,
    case_provincial_export_named,
    case_numeric_ids_xlsx,
    case_full_precision_number_xlsx,
    case_numeric_ids_xls,
    case_numeric_ids_csv,
    case_text_ids_csv_000,
    case_hint_in_file_name,
    case_two_programs_in_title,
    case_payments_without_period,
    case_once_program_without_period,
    case_household_head_only,
    case_deaths_register,
    case_public_employees,
    case_empty_workbook,
)


def write_all(directory: Path) -> list[Case]:
    """Every hostile case, each file in `directory` (one sub-folder per case, so names may repeat)."""
    cases = []
    for make in ALL_CASES:
        folder = directory / make.__name__.removeprefix("case_")
        folder.mkdir(parents=True, exist_ok=True)
        cases.append(make(folder))
    return cases
