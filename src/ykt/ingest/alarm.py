"""The layout alarm: a file whose rows mostly fail for one reason on one column has been misread as a whole
(a header taken for the wrong role, a missing column), so it is rejected as a whole (FILE_LAYOUT_SUSPECT)
rather than loaded row by row. The night and `ykt check` ask the same question of the same rejects.

The message names what the reader understood (the header row, the role each column was given, the roles
it found no column for) and what failed, so a clerk can see where the reading went wrong.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from ykt.config import Settings
from ykt.errors import InputFileError
from ykt.ingest.columns import FIELD_SPECS
from ykt.ingest.types import RawTable
from ykt.labels import ROLE_LABELS
from ykt.reasons import READ_AS_MEANT, reason_text


class LayoutSuspect(InputFileError):
    """FILE_LAYOUT_SUSPECT, with what reading the file inferred (recorded with the rejected file)."""

    def __init__(self, message: str, *, where: str, inferences: tuple[str, ...]):
        super().__init__(
            "FILE_LAYOUT_SUSPECT",
            message,
            where=where,
            hint="请核对上面每列被认作的含义；表头写法不同的，请改用标准列名（如 享受人姓名、身份证号码、补贴金额）"
            "后重新上传，或在 schemas/columns.yaml 中为该列名增加别名",
        )
        self.inferences = inferences


def layout_alarm(
    tables: Sequence[RawTable], rejects: pl.DataFrame, rows_read: int, settings: Settings
) -> LayoutSuspect | None:
    """The alarm when one (reason, column) holds at least `layout_alarm_share` of a file's rows read and
    the file has at least `layout_alarm_min_rows` rows; None for a file that is mostly good. Reasons that
    show the file was read as meant (ykt.reasons.READ_AS_MEANT) never raise it."""
    rejects = rejects.filter(~pl.col("reason_code").is_in(list(READ_AS_MEANT)))
    if rows_read < settings.layout_alarm_min_rows or rejects.height == 0 or not tables:
        return None
    worst = (
        rejects.group_by("reason_code", "column")
        .agg(pl.struct("sheet", "row").n_unique().alias("rows"))
        .sort(["rows", "reason_code"], descending=[True, False])
        .row(0, named=True)
    )
    if worst["rows"] < settings.layout_alarm_share * rows_read:
        return None
    column = f"“{worst['column']}”列" if worst["column"] else "（文件中没有该列）"
    failed = f"{rows_read}行中{worst['rows']}行“{reason_text(worst['reason_code'])}”，{column}"
    understood = "；".join(dict.fromkeys(understanding(t) for t in tables))
    inferences = tuple(dict.fromkeys(i for t in tables for i in t.inferences))
    return LayoutSuspect(f"{understood}（{failed}）", where=tables[0].path.name, inferences=inferences)


def understanding(table: RawTable) -> str:
    """第3行表头：户主姓名→户主、身份证号码→身份证号；缺少享受人姓名列 (what the reader made of a table)."""
    roles = sorted(table.positions, key=lambda role: table.positions[role])
    given = "、".join(f"{table.headers[r]}→{ROLE_LABELS.get(r, r)}" for r in roles if r in table.headers)
    missing = [s.role for s in FIELD_SPECS[table.kind] if s.required and s.role not in table.headers]
    sheet = f"工作表“{table.sheet}”" if table.sheet else ""
    text = f"{sheet}第{table.header_row}行表头：{given}"
    return text + (f"；缺少{'、'.join(ROLE_LABELS.get(r, r) for r in missing)}列" if missing else "")
