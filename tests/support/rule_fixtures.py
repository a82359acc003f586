"""A tiny builder for rule tests: warehouse rows written as Python dicts, no file readers.

People are numbered; person n has a valid resident ID, a name and a card number, so a
test reads as "person 3 is entitled to DIBAO 2024-03 and was paid 1000 on 2024-03-10".
Per-row Python is fine here: these fixtures hold a handful of rows.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from decimal import Decimal

import polars as pl

from ykt.warehouse.connection import Warehouse

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_SURNAMES = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施张孔曹严华金魏陶姜"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"


def resident_id(person: int) -> str:
    """A valid 18-digit ID (GB 11643 check digit) for person n: area 510723, born 1960 + n % 40."""
    body = f"510723{1960 + person % 40}0101{person % 1000:03d}"
    check = "10X98765432"[sum(int(d) * w for d, w in zip(body, _WEIGHTS)) % 11]
    return body + check


def card(person: int) -> str:
    return f"621700{person:010d}"


def name(person: int) -> str:
    return (
        _SURNAMES[person % len(_SURNAMES)]
        + _GIVEN[person % len(_GIVEN)]
        + _GIVEN[(person // 7) % len(_GIVEN)]
    )


def case_id(rule: str, program_code: str, case_key: str, case_period: str) -> str:
    """The contract's case id, computed independently of the SQL (docs/architecture.md)."""
    digest = hashlib.sha256(f"{rule}|{program_code}|{case_key}|{case_period}".encode()).hexdigest()
    return "YKT-" + digest[:16].upper()


_SCHEMAS: dict[str, dict[str, pl.DataType]] = {
    "entitlements": {
        "file_hash": pl.String,
        "sheet": pl.String,
        "source_row": pl.Int32,
        "id_number": pl.String,
        "program_code": pl.String,
        "period": pl.String,
        "name": pl.String,
        "head_name": pl.String,
        "head_id": pl.String,
        "payee_name": pl.String,
        "payee_id": pl.String,
        "card_number": pl.String,
        "bank": pl.String,
        "township": pl.String,
        "village": pl.String,
        "group_name": pl.String,
        "amount_due": pl.Decimal(18, 2),
        "approval_date": pl.Date,
        "due_date": pl.Date,
        "warnings": pl.String,
        "superseded_by": pl.String,
    },
    "payments": {
        "file_hash": pl.String,
        "sheet": pl.String,
        "source_row": pl.Int32,
        "id_number": pl.String,
        "program_code": pl.String,
        "period": pl.String,
        "name": pl.String,
        "payee_name": pl.String,
        "card_number": pl.String,
        "bank": pl.String,
        "township": pl.String,
        "village": pl.String,
        "group_name": pl.String,
        "amount": pl.Decimal(18, 2),
        "pay_date": pl.Date,
        "status": pl.String,
        "failure_reason": pl.String,
        "warnings": pl.String,
    },
    "deaths": {
        "file_hash": pl.String,
        "source_row": pl.Int32,
        "id_number": pl.String,
        "name": pl.String,
        "death_date": pl.Date,
    },
    "public_employees": {
        "file_hash": pl.String,
        "source_row": pl.Int32,
        "id_number": pl.String,
        "name": pl.String,
        "employer": pl.String,
    },
}


@dataclass
class Scenario:
    """Rows for one test. Defaults: DIBAO 2024-03, due 2024-03-10, 1350.00, 凤灵街道万安社区1组."""

    program_code: str = "DIBAO"
    period: str = "2024-03"
    due_date: dt.date = dt.date(2024, 3, 10)
    amount: Decimal = Decimal("1350.00")
    rows: dict[str, list[dict]] = field(default_factory=lambda: {table: [] for table in _SCHEMAS})

    def _place(self) -> dict:
        return {"township": "凤灵街道", "village": "万安社区", "group_name": "1组"}

    def entitle(self, person: int, **overrides) -> dict:
        row = {
            "file_hash": "roster",
            "source_row": len(self.rows["entitlements"]) + 2,
            "id_number": resident_id(person),
            "program_code": self.program_code,
            "period": self.period,
            "name": name(person),
            "card_number": card(person),
            "amount_due": self.amount,
            "due_date": self.due_date,
            **self._place(),
            **overrides,
        }
        self.rows["entitlements"].append(row)
        return row

    def pay(self, person: int, **overrides) -> dict:
        row = {
            "file_hash": "bank",
            "source_row": len(self.rows["payments"]) + 2,
            "id_number": resident_id(person),
            "program_code": self.program_code,
            "period": self.period,
            "name": name(person),
            "payee_name": name(person),
            "card_number": card(person),
            "amount": self.amount,
            "pay_date": self.due_date,
            "status": "success",
            **self._place(),
            **overrides,
        }
        self.rows["payments"].append(row)
        return row

    def roster_the_payments(self) -> None:
        """Put every paid key on the roster, due on its pay date with the amount paid (a fixture about the
        payments alone then has its program-periods covered by a roster: no COVERAGE, no UNENTITLED)."""
        for row in list(self.rows["payments"]):
            keep = (
                "id_number",
                "program_code",
                "period",
                "name",
                "card_number",
                "township",
                "village",
                "group_name",
            )
            self.rows["entitlements"].append(
                {
                    "file_hash": "roster",
                    "source_row": len(self.rows["entitlements"]) + 2,
                    **{k: row[k] for k in keep},
                    "amount_due": row["amount"],
                    "due_date": row["pay_date"],
                }
            )

    def fail(self, person: int, on: dt.date, reason: str, **overrides) -> dict:
        return self.pay(person, status="failure", pay_date=on, failure_reason=reason, **overrides)

    def die(self, person: int, on: dt.date) -> None:
        self.rows["deaths"].append(
            {
                "file_hash": "deaths",
                "source_row": len(self.rows["deaths"]) + 2,
                "id_number": resident_id(person),
                "name": name(person),
                "death_date": on,
            }
        )

    def employ(self, person: int, employer: str) -> None:
        self.rows["public_employees"].append(
            {
                "file_hash": "staff",
                "source_row": len(self.rows["public_employees"]) + 2,
                "id_number": resident_id(person),
                "name": name(person),
                "employer": employer,
            }
        )

    def load(self, wh: Warehouse) -> Warehouse:
        for table, schema in _SCHEMAS.items():
            if self.rows[table]:
                wh.insert_frame(table, pl.DataFrame(self.rows[table], schema=schema))
        return wh


def findings(wh: Warehouse, rule: str | None = None) -> list[dict]:
    """The findings table as dicts (optionally one rule), in a stable order."""
    frame = wh.frame(
        "test findings",
        "select * from findings where $rule is null or rule = $rule "
        "order by rule, program_code, period, id_number, paid_date, amount_paid",
        {"rule": rule},
    )
    return frame.to_dicts()
