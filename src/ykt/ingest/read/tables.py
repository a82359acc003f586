"""Reading input files (xlsx, xls, csv/txt) into `RawTable`s: every cell as text.

    file ──read_grids──▶ Grid per sheet ──find_header──▶ roles ──table_body──▶ data rows
                                                        └─ title/sheet/file name ─▶ program & period hints

* Readers never infer types (fastexcel `dtypes="string"`, polars `infer_schema=False`).
* The header is found by alias hits in the first rows (title lines, 填报单位/单位：元 lines,
  merged titles and two-row headers are handled), not assumed to be row 1.
* 合计/小计/总计 rows are not data; the grand total is kept as `control_total`.
* Signature lines (制表人/审核人…), repeated header lines and blank rows are skipped.
* Identity cells that were NUMBER cells are flagged in `<role>__numeric` (an 18-digit ID
  stored as a number has lost its last digits; the normaliser rejects it).

The provincial one-card system's roster export (花名册.xlsx) is read as-is: 享受人 is the
beneficiary, 支付状态/联系电话/现居住地/年龄 are ignored, and 填报日期 is deliberately NOT
taken as the approval date: it is the day the township clerk filled in the form, before
the county approved it, so starting the due-date clock there would raise false MISSING
cases. Such rows get their due date from the period (monthly programs) or are rejected
by the normaliser with DUE_DATE_UNKNOWN.
"""

from __future__ import annotations

import dataclasses
import difflib
import itertools
from collections.abc import Iterator
from pathlib import Path

import polars as pl

from ykt.config import Programs, Settings
from ykt.errors import InputFileError
from ykt.ingest.read.aliases import ColumnAliases, load_aliases, normalise_header
from ykt.ingest.read.formats import FileFormat, Grid, format_of, grid_parts, read_grids, release_parsed
from ykt.ingest.read.hints import Hint, period_hint, program_hint
from ykt.ingest.read.layout import (
    HEADER_SCAN_ROWS,
    IDENTITY_ROLES,
    Header,
    add_total_cells,
    body_rows,
    control_total_of,
    count_body_rows,
    fill_merged_cells,
    find_header,
    head_rows,
    header_texts,
    needs_merge_fill,
    non_blank_rows,
    table_body,
    title_lines,
)
from ykt.ingest.read.numbers import add_stats, excel_made, numeric_stats
from ykt.ingest.types import CLEANED, RawTable, TableEnd
from ykt.kinds import KINDS, kind_label, kind_spec
from ykt.labels import ROLE_LABELS

__all__ = [
    "ColumnAliases",
    "load_aliases",
    "normalise_header",
    "read_tables",
    "read_batches",
    "ColumnDecisionsChanged",
    "detect_kind",
    "count_data_rows",
]

# -- public API ------------------------------------------------------------------------------


def read_tables(path: Path, kind: str, aliases: ColumnAliases, programs: Programs) -> list[RawTable]:
    """Every recognisable table of a file, as text. Raises InputFileError when the file cannot be used."""
    path = Path(path)
    if kind not in KINDS:
        raise InputFileError(
            "FILE_KIND_UNKNOWN",
            f"未知的文件类别“{kind}”",
            where=path.name,
            hint=f"类别应为 {' / '.join(KINDS)} 之一",
        )
    try:
        return _tables(path, kind, aliases, programs)
    finally:
        release_parsed()


def _tables(path: Path, kind: str, aliases: ColumnAliases, programs: Programs) -> list[RawTable]:
    grids = read_grids(path, find_big_numbers=True, limits=programs.settings)
    found = [(grid, header) for grid in grids if (header := find_header(grid.frame, kind, aliases))]
    if not found:
        raise _no_table_error(path, grids, kind, aliases)
    for grid, header in found:
        _require_unambiguous(grid, header)
    read = [_raw_table(grid, header, kind, aliases, programs) for grid, header in found]
    read = [(table, program, period) for table, program, period in read if table.frame.height]
    if not read:
        raise _empty_table_error(path, kind)
    for table, program, period in read:
        _require_program_and_period(table, program, period, programs)
    return [table for table, _, _ in read]


class ColumnDecisionsChanged(Exception):
    """A CSV read in parts decided a column-wide question (were the IDs exported from number
    cells?) from its first part, and the whole file answers otherwise: read it again with
    `decisions` (role -> the whole file's answer), so nothing is rejected differently."""

    def __init__(self, decisions: dict[str, bool]):
        super().__init__(f"column decisions changed: {decisions}")
        self.decisions = decisions


def read_batches(
    path: Path,
    kind: str,
    aliases: ColumnAliases,
    programs: Programs,
    batch_rows: int,
    decisions: dict[str, bool] | None = None,
) -> Iterator[RawTable | TableEnd]:
    """Every table of a file as parts of at most `batch_rows` rows, each table followed by its TableEnd.

    CSV/TXT files are read in parts (bounded memory; the same rows, row numbers, control totals
    and errors as read_tables); workbooks are read whole, one part per table. May raise
    ColumnDecisionsChanged at the end of a CSV (see there): nothing read may then be kept.
    """
    path = Path(path)
    fmt = format_of(path)
    if fmt is None or not fmt.reads_in_parts or kind not in KINDS:
        for table in read_tables(path, kind, aliases, programs):
            yield table
            yield TableEnd(table, table.control_total)
        return
    try:
        yield from _batches(fmt, path, kind, aliases, programs, batch_rows, decisions)
    except InputFileError as exc:
        raise _whole_file_error(fmt, path, kind, aliases, programs) or exc from None


def _whole_file_error(
    fmt: FileFormat, path: Path, kind: str, aliases: ColumnAliases, programs: Programs
) -> InputFileError | None:
    """The error reading the file whole raises: a file read in parts can meet a problem before the one
    the whole-file reader reports first (it decodes the whole file before looking for the header)."""
    found = fmt.whole_file_error(path)
    if found is not None:
        return found
    try:
        read_tables(path, kind, aliases, programs)
    except InputFileError as exc:
        return exc
    return None


def _batches(
    fmt: FileFormat,
    path: Path,
    kind: str,
    aliases: ColumnAliases,
    programs: Programs,
    batch_rows: int,
    forced: dict[str, bool] | None,
) -> Iterator[RawTable | TableEnd]:
    """The header from the first HEADER_SCAN_ROWS lines, then every part's data rows (numbered as the
    file numbers them), totals and number-cell statistics added up for the TableEnd."""
    grids = grid_parts(path, batch_rows, HEADER_SCAN_ROWS, programs.settings)
    first = next(grids)
    header = find_header(first.frame, kind, aliases)
    if header is None:
        raise _no_table_error(path, [first], kind, aliases)
    _require_unambiguous(first, header)
    template, program, period = _table_meta(first, header, kind, programs)
    repeated, decisions = header_texts(first.frame, header), forced
    cells: tuple[tuple[str | None, ...], ...] = ()
    stats: dict[str, tuple[int, int, bool]] = {}
    seen_data = False
    below_header = [(first.frame.slice(header.bottom + 1), header.bottom + 2)]
    for rows, first_row in itertools.chain(below_header, ((grid.frame, grid.first_row) for grid in grids)):
        body = body_rows(rows, header, aliases, first_row, repeated)
        cells = add_total_cells(cells, body.total_cells)
        if body.frame.height == 0:
            continue
        if not seen_data:
            _require_program_and_period(_with_frame(template, body.frame), program, period, programs)
            seen_data = True
        part_stats = {r: numeric_stats(body.frame, r) for r in IDENTITY_ROLES if r in body.frame.columns}
        stats = {r: add_stats(stats.get(r), v) for r, v in part_stats.items()}
        decisions = decisions or {r: excel_made(v) for r, v in part_stats.items()}
        yield _with_frame(template, _with_numeric_flags(body.frame, first, header, decisions))
    if not seen_data:
        raise _empty_table_error(path, kind)
    final = {r: excel_made(v) for r, v in stats.items()}
    if forced is None and final != decisions:
        raise ColumnDecisionsChanged(final)
    yield TableEnd(template, control_total_of(cells))


def _require_unambiguous(grid: Grid, header: Header) -> None:
    """Two columns that could each be one role, and no header to decide: named, never guessed between."""
    if not header.ambiguous:
        return
    where = f"{grid.path.name}（{grid.sheet}）" if grid.sheet else grid.path.name
    found = "；".join(
        f"{'、'.join(candidates)}都可能是{ROLE_LABELS.get(role, role)}列"
        for role, candidates in header.ambiguous
    )
    raise InputFileError(
        "FILE_COLUMNS_AMBIGUOUS",
        f"第{header.top + 1}行表头下，{found}，表头无法区分",
        where=where,
        hint="请把应使用的那一列的表头改为标准列名（如 身份证号码、享受人姓名），或删去多余的列",
    )


def _with_frame(table: RawTable, frame: pl.DataFrame) -> RawTable:
    return dataclasses.replace(table, frame=frame)


def _empty_table_error(path: Path, kind: str) -> InputFileError:
    return InputFileError(
        "FILE_EMPTY",
        f"文件有{kind_label(kind)}表头，但表头下没有数据行",
        where=path.name,
        hint="请确认上传的是填好数据的文件，而不是空白模板",
    )


def detect_kind(path: Path, aliases: ColumnAliases, limits: Settings | None = None) -> str:
    """The kind whose table the file holds (for `ykt check`, where no inbox folder says it)."""
    path = Path(path)
    grids = read_grids(path, limits=limits)
    scores = _kind_scores(grids, aliases)
    if not scores:
        raise _no_table_error(path, grids, "roster", aliases)
    best = max(scores.values())
    winners = [kind for kind, score in scores.items() if score == best]
    if len(winners) > 1:
        names = "、".join(f"{kind_label(k)}（{k}）" for k in winners)
        raise InputFileError(
            "FILE_KIND_UNKNOWN",
            f"无法判断文件类别：表头同样符合 {names}",
            where=path.name,
            hint="请在文件名或标题中写明“花名册”或“代发明细”，或放入 inbox 中对应的目录",
        )
    return winners[0]


def count_data_rows(path: Path, limits: Settings | None = None) -> int:
    """Rows of a file rejected as a whole, for row accounting (never raises).

    Sheets with a recognisable table (of any kind) count their data rows exactly as
    read_tables reads them, and other sheets are skipped, as read_tables skips them. When
    no sheet has a table (unknown headers, undecodable text), every non-blank row counts. A file
    over a reading budget (FILE_TOO_LARGE) is not read again: its rows are unknown, counted 0.
    """
    path = Path(path)
    try:
        grids = read_grids(path, limits=limits)
        aliases = load_aliases()
    except InputFileError as exc:
        return 0 if exc.reason_code == "FILE_TOO_LARGE" else _count_raw_lines(path)
    counted = [
        count_body_rows(grid.frame, header, aliases)
        for grid in grids
        if (header := _any_header(grid, aliases))
    ]
    return sum(counted) if counted else sum(non_blank_rows(grid.frame) for grid in grids)


def _any_header(grid: Grid, aliases: ColumnAliases) -> Header | None:
    """The best header of any kind (the kind of a rejected file may be unknown)."""
    headers = [h for kind in KINDS if (h := find_header(grid.frame, kind, aliases)) and not h.ambiguous]
    return max(headers, key=lambda h: (h.score, -h.top)) if headers else None


# -- one table -------------------------------------------------------------------------------


def _raw_table(
    grid: Grid, header: Header, kind: str, aliases: ColumnAliases, programs: Programs
) -> tuple[RawTable, Hint, Hint]:
    body = table_body(grid.frame, header, aliases)
    frame = body.frame
    if grid.format.merges_cells and needs_merge_fill(frame):
        frame = fill_merged_cells(frame, header, grid.format.merged_ranges(grid))
    table, program, period = _table_meta(grid, header, kind, programs)
    return (
        dataclasses.replace(
            table, frame=_with_numeric_flags(frame, grid, header), control_total=body.control_total
        ),
        program,
        period,
    )


def _table_meta(grid: Grid, header: Header, kind: str, programs: Programs) -> tuple[RawTable, Hint, Hint]:
    """A table's headers, title and program/period hints (its frame still empty)."""
    title = title_lines(grid.frame, header)
    sources = [title, grid.sheet or "", grid.path.stem]
    hinted = kind_spec(kind).needs_program_and_period
    program = program_hint(sources, programs.name_index()) if hinted else Hint(None)
    period = period_hint(sources) if hinted else Hint(None)
    table = RawTable(
        path=grid.path,
        sheet=grid.sheet,
        kind=kind,
        frame=pl.DataFrame(),
        headers=dict(header.labels),
        title=title,
        program_hint=program.value,
        period_hint=period.value,
        positions={role: int(col[1:]) for role, col in header.columns.items()},
        date1904=grid.date1904,
        header_row=header.top + 1,
        inferences=header.inferences
        + ((_program_inference(program, programs)) if "program" not in header.columns else ()),
    )
    return table, program, period


def _program_inference(program: Hint, programs: Programs) -> tuple[str, ...]:
    """A program recognised by a part of its name is told to the clerk (a full spelling is not inferred)."""
    if not program.part or program.value is None:
        return ()
    name = programs.by_code(program.value).name
    return (f"“{program.source}”中有“{program.part}”，按此判断补贴项目为{name}",)


def _require_program_and_period(table: RawTable, program: Hint, period: Hint, programs: Programs) -> None:
    """Rosters and payments need a program and a period: a column, or one in title/sheet/file name."""
    if not kind_spec(table.kind).needs_program_and_period:
        return
    where = _where(table)
    has_program_col, has_period_col = "program" in table.frame.columns, "period" in table.frame.columns
    if not has_program_col and program.ambiguous:
        names = "、".join(programs.by_code(c).name for c in program.found)
        raise InputFileError(
            "FILE_PROGRAM_AMBIGUOUS",
            f"“{program.source}”同时提到多个补贴项目：{names}",
            where=where,
            hint="一个文件只放一个补贴项目，或增加“补贴项目”列",
        )
    if not has_program_col and program.value is None:
        raise InputFileError(
            "FILE_PROGRAM_UNKNOWN",
            "无法确定补贴项目：没有“补贴项目”列，标题、工作表名和文件名中也没有项目名称",
            where=where,
            hint="请在标题或文件名中写明项目，如“城乡低保_2024年3月_花名册.xlsx”，或增加“补贴项目”列",
        )
    if has_period_col or period.value is not None or _period_optional(table, program, programs):
        return
    detail = (
        f"“{period.source}”中有多个期间：{'、'.join(period.found)}"
        if period.ambiguous
        else "没有“发放期间”列，标题、工作表名和文件名中也没有期间"
    )
    raise InputFileError(
        "FILE_PERIOD_UNKNOWN",
        f"无法确定发放期间：{detail}",
        where=where,
        hint="请在标题或文件名中写明期间，如“2024年3月”“2024年第一季度”“2024年度”，或增加“发放期间”列",
    )


def _period_optional(table: RawTable, program: Hint, programs: Programs) -> bool:
    """A roster may omit the period when its program is paid once (the approval month is used).

    With a program column the cadence differs per row: the normaliser decides per row
    (PERIOD_MISSING) instead of rejecting the whole file here.
    """
    if table.kind != "roster":
        return False
    if "program" in table.frame.columns:
        return True
    return program.value is not None and programs.by_code(program.value).cadence == "once"


def _where(table: RawTable) -> str:
    return f"{table.path.name}" + (f"，工作表“{table.sheet}”" if table.sheet else "")


# -- cells that were numbers, rows that held control characters -------------------------------------------------------------------


def _with_numeric_flags(
    frame: pl.DataFrame, grid: Grid, header: Header, decisions: dict[str, bool] | None = None
) -> pl.DataFrame:
    """Add `<role>__numeric` for each identity role present (True = the cell was a NUMBER cell).
    `decisions`: a file read in parts gets the whole file's column decisions (see excel_made)."""
    positions = {r: int(header.columns[r][1:]) for r in IDENTITY_ROLES if r in frame.columns}
    flags = grid.format.number_flags(frame, grid, positions, decisions)
    dirty = grid.cleaned_rows
    marked = [pl.col("source_row").is_in(dirty).alias(CLEANED)] if dirty is not None and dirty.len() else []
    return frame.with_columns(*(flag.alias(f"{role}__numeric") for role, flag in flags.items()), *marked)


# -- kinds and unknown headers ----------------------------------------------------------------


def _kind_scores(grids: list[Grid], aliases: ColumnAliases) -> dict[str, tuple[int, int]]:
    """Per recognisable kind: (distinctive roles + title words, roles recognised)."""
    scores: dict[str, tuple[int, int]] = {}
    for grid in grids:
        for kind in KINDS:
            header = find_header(grid.frame, kind, aliases)
            if header is None:
                continue
            spec = aliases.kind(kind)
            text = " ".join([title_lines(grid.frame, header), grid.sheet or "", grid.path.stem])
            evidence = sum(r in header.columns for r in spec.distinctive) + sum(
                w in text for w in spec.title_words
            )
            scores[kind] = max(scores.get(kind, (0, 0)), (evidence, header.score))
    return scores


def _no_table_error(path: Path, grids: list[Grid], kind: str, aliases: ColumnAliases) -> InputFileError:
    if not any(non_blank_rows(g.frame) for g in grids):
        return InputFileError(
            "FILE_EMPTY",
            "文件中没有数据（所有工作表都是空的）",
            where=path.name,
            hint="请确认上传的是填好数据的文件",
        )
    found = _likely_header(grids, aliases)
    known = aliases.known_headers(kind)
    close = []
    for text in found:
        match = difflib.get_close_matches(normalise_header(text), known, n=1, cutoff=0.5)
        if match and normalise_header(text) not in known:
            close.append(f"“{text}”→“{match[0]}”")
    required = "、".join(_role_title(aliases, role) for role in aliases.kind(kind).required)
    message = (
        f"找不到{kind_label(kind)}的表头（前30行中没有同时包含 {required} 等列的行）。"
        f"找到的表头：{'、'.join(found) or '（无）'}。"
    )
    if close:
        message += f"最接近的已知表头：{'；'.join(close)}。"
    other = _other_kind(grids, aliases, kind)
    if other:
        message += f"该文件看起来是{kind_label(other)}，应放入 inbox/{kind_spec(other).inbox_folder}/。"
    return InputFileError(
        "FILE_HEADERS_UNKNOWN",
        message,
        where=path.name,
        hint="请使用标准列名（如 姓名、身份证号码、补贴金额），或在 schemas/columns.yaml 中为该列名增加别名",
    )


def _role_title(aliases: ColumnAliases, role: str) -> str:
    """A role as a clerk knows it: its first alias (id_number -> 身份证号码)."""
    return next((spec.aliases[0] for spec in aliases.roles if spec.role == role and spec.aliases), role)


def _likely_header(grids: list[Grid], aliases: ColumnAliases) -> list[str]:
    """The texts of the row that looks most like a header: most alias hits, then most cells."""
    known = {alias for kind in KINDS for alias in aliases.known_headers(kind)}
    best: tuple[int, int] = (-1, -1)
    texts: list[str] = []
    for grid in grids:
        for row in head_rows(grid.frame):
            cells = [c for c in row if c]
            key = (sum(normalise_header(c) in known for c in cells), len(cells))
            if cells and key > best:
                best, texts = key, cells
    return texts[:30]


def _other_kind(grids: list[Grid], aliases: ColumnAliases, kind: str) -> str | None:
    scores = {k: v for k, v in _kind_scores(grids, aliases).items() if k != kind}
    return max(scores, key=lambda k: scores[k]) if scores else None


def _count_raw_lines(path: Path) -> int:
    """Non-blank lines of a text file that could not be decoded; 0 for a broken workbook."""
    fmt = format_of(path)
    return fmt.raw_line_count(path) if fmt is not None else 0
