"""`ykt check FILE…`: validate uploads without loading them, and hand the clerk an annotated copy.

For every file with a problem, `<name>.检查结果.xlsx` is written next to it: a copy of the
workbook (CSV/TXT and legacy .xls are converted to .xlsx) with each bad cell filled red and
a comment on it ("第12行 身份证号码：身份证号码校验位错误"), plus a 检查汇总 sheet first (rows
read / ok / rejected, reasons by count, what to do). The clerk fixes the file in Excel or WPS
and uploads it again. A file without problems gets no copy (and a stale copy from an
earlier check is removed, so it cannot mislead).

Validation is `ykt.ingest.check_file` — the very code the nightly load runs — so `ykt check`
and the night never disagree. openpyxl only renders here.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import openpyxl
import polars as pl
from openpyxl.cell.cell import MergedCell
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.worksheet import Worksheet
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from ykt.config import Programs
from ykt.errors import InputFileError
from ykt.ingest import CheckedTable, ColumnAliases, Grid, check_file, detect_kind, format_of, read_grids
from ykt.kinds import KIND_SPECS
from ykt.masking import neutralise_formula, neutralise_formula_expr, printable

RESULT_SUFFIX = ".检查结果.xlsx"
SUMMARY_SHEET = "检查汇总"
CSV_SHEET = "数据"  # the sheet a converted CSV/TXT file's rows go to
PROGRESS_MIN_ROWS = 3000  # files at least this long get a progress bar
BAD_FILL = PatternFill("solid", fgColor="FFC7CE")  # Excel's own "bad" red
BAD_FONT = Font(color="9C0006")
BOLD = Font(bold=True)
AUTHOR = "ykt check"


@dataclass(frozen=True)
class CheckResult:
    """What `ykt check` found in one file."""

    path: Path
    kind: str | None
    rows_read: int
    rows_rejected: int
    reasons: tuple[tuple[str, str, int], ...]  # (reason_code, reason, rows), most frequent first
    file_error: str | None = None  # the whole file cannot be used (Chinese, with the fix)
    annotated: Path | None = None  # the annotated copy, when one was written
    inferences: tuple[str, ...] = ()  # what reading the file inferred rather than read (Chinese)
    file_reason_code: str | None = None  # why the whole file cannot be used (ykt.reasons)
    # What was read, for a page that shows it (the web desk): each table as ykt.ingest checked it, and
    # every problem row (REJECT_COLUMNS, values masked).
    tables: tuple[CheckedTable, ...] = field(default=(), compare=False, repr=False)
    rejects: pl.DataFrame | None = field(default=None, compare=False, repr=False)

    @property
    def rows_ok(self) -> int:
        return self.rows_read - self.rows_rejected

    @property
    def ok(self) -> bool:
        return self.file_error is None and self.rows_rejected == 0

    def describe(self) -> str:
        """One short Chinese paragraph for the terminal (control characters of names written out)."""
        return printable(self._describe())

    def _describe(self) -> str:
        told = "".join(f"\n  系统推断：{line}" for line in self.inferences)
        if self.file_error:
            head = f"✗ {printable(self.path.name)}：整个文件无法使用。{self.file_error}"
        elif self.ok:
            return f"✓ {printable(self.path.name)}：{self.rows_read} 行全部通过检查，可以上传。{told}"
        else:
            top = "；".join(f"{reason} {n} 行" for _, reason, n in self.reasons[:3])
            head = (
                f"✗ {printable(self.path.name)}：读取 {self.rows_read} 行，通过 {self.rows_ok} 行，"
                f"有问题 {self.rows_rejected} 行（{top}）。"
            )
        return head + told + (f"\n  已标注错误的副本：{self.annotated}" if self.annotated else "")


@dataclass(frozen=True)
class Validation:
    """The outcome of validating one file (ykt.ingest.check_file), in the shape this module uses."""

    rows_read: int
    rejects: pl.DataFrame  # sheet, row, column, value_masked, reason_code, reason
    error: InputFileError | None = None
    positions: pl.DataFrame | None = None  # sheet, label, col: where each table's columns sit
    inferences: tuple[str, ...] = ()
    tables: tuple[CheckedTable, ...] = ()


def check_files(
    paths: Sequence[Path], programs: Programs, aliases: ColumnAliases, *, kind: str | None = None
) -> list[CheckResult]:
    """Check each file; write an annotated copy next to every file with a problem."""
    return [check_file_and_annotate(Path(p), programs, aliases, kind=kind) for p in paths]


def check_file_and_annotate(
    path: Path, programs: Programs, aliases: ColumnAliases, *, kind: str | None = None
) -> CheckResult:
    try:
        kind = kind or detect_kind(path, aliases, programs.settings)
    except InputFileError as exc:
        return _finish(path, None, Validation(0, _no_rejects(), exc))
    return _finish(path, kind, validate_file(path, kind, programs, aliases))


def result_path(path: Path) -> Path:
    return path.with_name(path.stem + RESULT_SUFFIX)


def _finish(path: Path, kind: str | None, validation: Validation) -> CheckResult:
    rejects = validation.rejects
    result = CheckResult(
        path=path,
        kind=kind,
        rows_read=validation.rows_read,
        rows_rejected=rejects.select(pl.struct("sheet", "row").n_unique()).item() if rejects.height else 0,
        reasons=reason_counts(rejects),
        file_error=validation.error.render() if validation.error else None,
        inferences=validation.inferences,
        file_reason_code=validation.error.reason_code if validation.error else None,
        tables=validation.tables,
        rejects=rejects,
    )
    target = result_path(path)
    if result.ok:
        target.unlink(missing_ok=True)
        return result
    # a file over a reading budget is never opened again (openpyxl would unpack a zip bomb): summary only
    too_large = validation.error is not None and validation.error.reason_code == "FILE_TOO_LARGE"
    annotated = write_annotated_copy(path, validation.positions, rejects, result, target, copy=not too_large)
    return replace(result, annotated=annotated)


def validate_file(path: Path, kind: str, programs: Programs, aliases: ColumnAliases) -> Validation:
    """The nightly load's own validation (ykt.ingest.check_file), every table of the file together."""
    try:
        tables = check_file(path, kind, programs, aliases)
    except InputFileError as exc:
        return Validation(0, _no_rejects(), exc, inferences=tuple(getattr(exc, "inferences", ())))
    rejects = pl.concat([_no_rejects(), *(t.rejects.cast(_no_rejects().schema) for t in tables)])
    return Validation(
        rows_read=sum(t.rows_read for t in tables),
        rejects=rejects,
        positions=header_positions(tables),
        inferences=tuple(dict.fromkeys(i for t in tables for i in t.inferences)),
        tables=tuple(tables),
    )


def _no_rejects() -> pl.DataFrame:
    return pl.DataFrame(
        schema={
            "sheet": pl.Utf8,
            "row": pl.Int32,
            "column": pl.Utf8,
            "value_masked": pl.Utf8,
            "reason_code": pl.Utf8,
            "reason": pl.Utf8,
        }
    )


def reason_counts(rejects: pl.DataFrame) -> tuple[tuple[str, str, int], ...]:
    """(code, reason, distinct rows) per reason, most frequent first."""
    if rejects.height == 0:
        return ()
    counts = (
        rejects.group_by("reason_code", "reason")
        .agg(pl.struct("sheet", "row").n_unique().alias("rows"))
        .sort(["rows", "reason_code"], descending=[True, False])
    )
    return tuple(counts.iter_rows())


# -- where each reject sits ------------------------------------------------------------------------


def bad_cells(rejects: pl.DataFrame, positions: pl.DataFrame) -> pl.DataFrame:
    """One row per cell to mark: sheet, row, col (1-based) and the comment text.

    `positions` maps (sheet, header label) to a column; a reject whose column is not a known
    header (a whole-row problem such as a duplicate) marks the table's first column.
    """
    first = positions.group_by("sheet").agg(pl.col("col").min().alias("first_col"))
    located = (
        rejects.with_columns(pl.col("sheet").fill_null(""))
        .join(positions, left_on=["sheet", "column"], right_on=["sheet", "label"], how="left")
        .join(first, on="sheet", how="left")
        .with_columns(col=pl.coalesce("col", "first_col", pl.lit(1)))
        .with_columns(
            line=pl.format(
                "第{}行 {}：{}", pl.col("row"), pl.col("column").fill_null("整行"), pl.col("reason")
            )
        )
    )
    return (
        located.group_by("sheet", "row", "col", maintain_order=True)
        .agg(pl.col("line").unique(maintain_order=True).str.join("\n").alias("text"))
        .sort("sheet", "row", "col")
    )


def header_positions(tables: Sequence[CheckedTable]) -> pl.DataFrame:
    """(sheet, label, col) for every recognised header of every checked table (ykt.ingest.CheckedTable:
    the reader's own column positions, so the file is not read again to find them)."""
    rows = [(t.sheet or "", label, col) for t in tables for label, col in t.columns.items()]
    return pl.DataFrame(
        rows, schema={"sheet": pl.Utf8, "label": pl.Utf8, "col": pl.Int64}, orient="row"
    ).unique(subset=["sheet", "label"], keep="first", maintain_order=True)


# -- the annotated copy ----------------------------------------------------------------------------


def write_annotated_copy(
    path: Path,
    positions: pl.DataFrame | None,
    rejects: pl.DataFrame,
    result: CheckResult,
    target: Path,
    *,
    copy: bool = True,
) -> Path:
    """The workbook (converted if it is not .xlsx) with red, commented bad cells and the summary sheet;
    `copy=False`: the summary sheet alone (the file itself is not opened)."""
    with _progress(result.rows_read >= PROGRESS_MIN_ROWS, printable(path.name)) as steps:
        steps.stage("打开工作簿")
        workbook = _as_workbook(path) if copy else _empty_workbook()
        if positions is not None and positions.height and rejects.height:
            cells = bad_cells(rejects, positions)
            steps.stage("标注错误单元格", total=cells.height)
            _mark_cells(workbook, cells, steps.advance)
        _summary_sheet(workbook, result)
        steps.stage("保存")
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        try:
            workbook.save(tmp)
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
    return target


def _grids_or_none(path: Path) -> list[Grid] | None:
    try:
        return read_grids(path)
    except InputFileError:
        return None


def _as_workbook(path: Path) -> openpyxl.Workbook:
    """The clerk's own .xlsx (formatting kept), or a new workbook holding the text of every sheet
    (CSV/TXT and .xls are read as text here, the only second read of such a file)."""
    fmt = format_of(path)
    if fmt is not None and fmt.keeps_formatting:
        try:
            return openpyxl.load_workbook(path)
        except Exception:
            pass
    workbook = _empty_workbook()
    for grid in _grids_or_none(path) or ():
        _copy_grid(workbook.create_sheet(_sheet_title(grid.sheet or CSV_SHEET)), grid.frame)
    return workbook


def _empty_workbook() -> openpyxl.Workbook:
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    return workbook


def _copy_grid(ws: Worksheet, frame: pl.DataFrame) -> None:
    """Cell texts at their own positions (columns are c<0-based index>; row i is spreadsheet row i + 1).
    A text a spreadsheet would run as a formula (=HYPERLINK(…) typed into a CSV) is written with a
    leading apostrophe: openpyxl would otherwise store it as a live formula in the clerk's copy."""
    if frame.width == 0:
        return
    width = max(int(c[1:]) for c in frame.columns) + 1
    full = frame.select(
        [
            neutralise_formula_expr(pl.col(f"c{i}").cast(pl.Utf8))
            if f"c{i}" in frame.columns
            else pl.lit(None, pl.Utf8).alias(f"c{i}")
            for i in range(width)
        ]
    )
    for row in full.iter_rows():  # openpyxl renders row by row; this is the conversion itself
        ws.append(row)


def _sheet_title(name: str) -> str:
    return "".join("_" if ch in "[]:*?/\\" else ch for ch in printable(name))[:31] or CSV_SHEET


def _mark_cells(workbook: openpyxl.Workbook, cells: pl.DataFrame, advance: Callable[[], None]) -> None:
    sheets = {title: workbook[title] for title in workbook.sheetnames}
    for sheet, row, col, text in cells.iter_rows():  # one bad cell each: rendering, not data processing
        ws = sheets.get(sheet) or sheets.get(_sheet_title(sheet or CSV_SHEET))
        if ws is not None:
            _mark(ws, row, col, text)
        advance()


def _mark(ws: Worksheet, row: int, col: int, text: str) -> None:
    cell = ws.cell(row=row, column=col)
    if isinstance(cell, MergedCell):  # a merged area is commented on its top-left cell
        anchor = next(r for r in ws.merged_cells.ranges if cell.coordinate in r)
        cell = ws.cell(row=anchor.min_row, column=anchor.min_col)
    cell.fill, cell.font = BAD_FILL, BAD_FONT
    comment = Comment(text, AUTHOR)
    comment.width, comment.height = 320, 40 + 20 * text.count("\n")
    cell.comment = comment


class _Steps:
    """The stages of annotating one long file, one progress line each (no output for short files)."""

    def __init__(self, progress: Progress | None, name: str):
        self.progress, self.name = progress, name
        self.task: TaskID | None = None

    def stage(self, text: str, total: int = 1) -> None:
        if self.progress is None:
            return
        self.finish()
        self.task = self.progress.add_task(f"{self.name} {text}", total=total)

    def advance(self) -> None:
        if self.progress is not None and self.task is not None:
            self.progress.advance(self.task)

    def finish(self) -> None:
        """Show the current stage as complete."""
        if self.progress is not None and self.task is not None:
            total = self.progress.tasks[self.task].total
            self.progress.update(self.task, completed=total)


@contextmanager
def _progress(enabled: bool, name: str) -> Iterator[_Steps]:
    if not enabled:
        yield _Steps(None, name)
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        steps = _Steps(progress, name)
        yield steps
        steps.finish()


def _summary_sheet(workbook: openpyxl.Workbook, result: CheckResult) -> None:
    """检查汇总, placed first and opened first."""
    ws = workbook.create_sheet(SUMMARY_SHEET, 0)
    workbook.active = 0
    for row in summary_lines(result):  # names and messages may carry a file name's control characters
        ws.append([neutralise_formula(printable(v)) if isinstance(v, str) else v for v in row])
    for cell in ws["A"]:
        if cell.value in ("文件", "问题原因", "处理办法"):
            cell.font = BOLD
    ws.column_dimensions["A"].width, ws.column_dimensions["B"].width = 22, 70
    ws.column_dimensions["C"].width = 10


def summary_lines(result: CheckResult) -> list[list[object]]:
    kind = (
        KIND_SPECS[result.kind].label if result.kind is not None and result.kind in KIND_SPECS else "无法判断"
    )
    lines: list[list[object]] = [
        ["文件", printable(result.path.name)],
        ["类别", kind],
        ["读取行数", result.rows_read],
        ["通过行数", result.rows_ok],
        ["有问题的行数", result.rows_rejected],
        [],
    ]
    if result.file_error:
        lines += [["整个文件无法使用", result.file_error], []]
    if result.inferences:
        told: list[list[object]] = [["系统推断", line] for line in result.inferences]
        lines += [*told, []]
    if result.reasons:
        lines += [
            ["问题原因", "说明", "行数"],
            *[[code, reason, n] for code, reason, n in result.reasons],
            [],
        ]
    lines += [
        [
            "处理办法",
            "红色单元格有错误，鼠标移到单元格上可看到原因；请在原文件中改正后重新上传。"
            "（表头、标题、合计行不算数据行。）",
        ]
    ]
    return lines
