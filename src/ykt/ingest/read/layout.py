"""Layout of a sheet: where the header is, which columns are which role, which rows are data.

Header detection looks only at the first rows (Python over ~30 rows); every test on
data rows is a polars expression (and the label tests only see the few rows without an ID).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import polars as pl

from ykt.ingest.read.aliases import ColumnAliases, KindHeaders, normalise_header, without_notes
from ykt.ingest.read.meaning import Loose, Roles, Sample, infer_roles

HEADER_SCAN_ROWS = 30
IDENTITY_ROLES = ("id_number", "head_id", "payee_id", "card_number")
# Roles whose cells are often merged down over a block of rows (one village, many people).
FILL_DOWN_ROLES = ("township", "village", "group_name", "program", "period")
# A parent header cell named "收款人信息" over 姓名/账号 means 收款人姓名/收款人账号.
_PARENT_SUFFIX = re.compile(r"(?:基本)?(?:信息|情况)$")
_IDENTITY_DIGITS = r"\d{6}"


@dataclass(frozen=True)
class Header:
    top: int  # 0-based frame row of the first header line
    bottom: int  # 0-based frame row of the last header line (top, or top + 1)
    columns: dict[str, str]  # role -> frame column ("c3")
    labels: dict[str, str]  # role -> the header as written ("收款人信息/姓名" for two rows)
    score: int  # roles recognised by their header text
    child_hits: int = 0  # two-row header: columns recognised by their lower (child) cell
    inferences: tuple[
        str, ...
    ] = ()  # roles given by content or by the persons named (ykt.ingest.read.meaning)
    ambiguous: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (role, the candidate columns shown)

    @property
    def two_rows(self) -> bool:
        return self.bottom > self.top


@dataclass(frozen=True)
class _Column:
    name: str  # frame column
    display: str  # header as written
    candidates: tuple[str, ...]  # texts to look up, preferred first
    from_child: bool = False  # named (also) by the lower cell of a two-row header


# -- header detection ----------------------------------------------------------------------


def head_rows(frame: pl.DataFrame) -> list[list[str]]:
    """The first rows as stripped strings ('' for empty): all header detection looks at."""
    return [[(v or "").strip() for v in row] for row in frame.head(HEADER_SCAN_ROWS).rows()]


def find_header(frame: pl.DataFrame, kind: str, aliases: ColumnAliases) -> Header | None:
    """The header (one or two rows) recognising the most roles of `kind`, or None.

    A header must hold the kind's required roles and at least two roles. On a tie, a
    two-row header wins when its lower row names columns the upper row cannot (应发/实发
    under 金额) and is not data; otherwise a one-row header wins, then the earliest row.
    """
    rows, names = head_rows(frame), frame.columns
    spec, context = aliases.kind(kind), _Context(aliases, kind, names, Sample(frame.head(HEADER_SCAN_ROWS)))
    singles = [_assign(_single_row(cells, names), context, r, r) for r, cells in enumerate(rows)]
    doubles = [
        _assign(_two_rows(rows[r], rows[r + 1], names), context, r, r + 1) for r in range(len(rows) - 1)
    ]
    best: tuple[tuple[int, bool, bool, int], Header] | None = None
    for header in singles + doubles:
        if not _complete(header, spec):
            continue
        key = (
            header.score,
            _lower_row_names_columns(header, rows, singles),
            not header.two_rows,
            -header.top,
        )
        if best is None or key > best[0]:
            best = (key, header)
    return best[1] if best else None


def _lower_row_names_columns(header: Header, rows: list[list[str]], singles: list[Header]) -> bool:
    """A two-row header whose lower row adds roles the lower row alone does not make a header of."""
    return (
        header.two_rows
        and header.child_hits > 0
        and not _looks_like_data(rows[header.bottom])
        and header.score > singles[header.bottom].score
    )


def _looks_like_data(cells: list[str]) -> bool:
    """A row holding an ID or card number is data, not a header line."""
    return any(re.search(_IDENTITY_DIGITS, cell) for cell in cells)


def _single_row(cells: list[str], names: list[str]) -> list[_Column]:
    return [_Column(name, text, (text,)) for name, text in zip(names, cells) if text]


def _two_rows(parent: list[str], child: list[str], names: list[str]) -> list[_Column]:
    """Parent cells over sub-columns: a merged parent is written once, over its first child.

    A child is looked up as parent+child first (收款人+姓名), then alone; a parent cell
    with nothing below it is a header merged down over both rows.
    """
    columns, span, span_text = [], "", ""
    for name, p, c in zip(names, parent, child):
        if p and c:
            span, span_text = _PARENT_SUFFIX.sub("", normalise_header(p)), p
        elif p or not c:
            span, span_text = "", ""
        if c:
            display = f"{span_text}/{c}" if span else c
            columns.append(_Column(name, display, (span + c, c) if span else (c,), from_child=True))
        elif p:
            columns.append(_Column(name, p, (p,)))
    return columns


@dataclass(frozen=True)
class _Context:
    """What assigning roles to a candidate header row needs besides its cells."""

    aliases: ColumnAliases
    kind: str
    names: list[str]  # the frame's columns
    sample: Sample  # the classes of the first rows' cells

    def hit(self, text: str) -> tuple[str, int] | None:
        """(role, rank) of a header text, as written or without its bracketed notes (身份证号码(18位))."""
        lookup = self.aliases.lookup(self.kind)
        key = normalise_header(text)
        return lookup.get(key) or lookup.get(without_notes(key))

    def loose(self, columns: list[_Column], named: set[str]) -> list[Loose]:
        """Columns no alias names, blank headers included; whether each header names a person."""
        displays = {c.name: c for c in columns}
        return [
            Loose(name, displays[name].display if name in displays else "", self._person(displays.get(name)))
            for name in self.names
            if name not in named
        ]

    def _person(self, column: _Column | None) -> bool:
        return column is not None and any(
            self.aliases.names_a_person(without_notes(normalise_header(t))) for t in column.candidates
        )


def _assign(columns: list[_Column], context: _Context, top: int, bottom: int) -> Header:
    """Each role goes to the column whose alias ranks best (leftmost on a tie); the roles left open are
    then inferred from the cells below and the persons named (ykt.ingest.read.meaning)."""
    best: dict[str, tuple[int, int, _Column]] = {}
    child_hits, named = 0, set()
    for position, column in enumerate(columns):
        for text in column.candidates:
            hit = context.hit(text)
            if hit is None:
                continue
            role, rank = hit
            child_hits += column.from_child
            named.add(column.name)
            if role not in best or (rank, position) < best[role][:2]:
                best[role] = (rank, position, column)
            break
    ordered = sorted(best.items(), key=lambda item: item[1][1])
    roles = infer_roles(
        Roles({r: c.name for r, (_, _, c) in ordered}, {r: c.display for r, (_, _, c) in ordered}),
        context.loose(columns, named),
        context.sample,
        bottom + 1,
        context.kind,
    )
    return Header(
        top,
        bottom,
        columns=roles.columns,
        labels=roles.labels,
        score=len(best),
        child_hits=child_hits,
        inferences=tuple(roles.inferences),
        ambiguous=tuple(roles.ambiguous),
    )


def _complete(header: Header, spec: KindHeaders) -> bool:
    """Two roles named by their headers, and every required role found (or ambiguous: then the reader
    rejects the file naming the candidates, rather than saying no header was found)."""
    found = set(header.columns) | {role for role, _ in header.ambiguous}
    return header.score >= 2 and all(role in found for role in spec.required)


def title_lines(frame: pl.DataFrame, header: Header) -> str:
    """The non-empty lines above the header, each line's cells joined by a space."""
    lines = [" ".join(cell for cell in row if cell) for row in head_rows(frame)[: header.top]]
    return "\n".join(line for line in lines if line)


# -- data rows -----------------------------------------------------------------------------


def _label_regex(labels: tuple[str, ...], at_end: bool = False) -> str:
    """Cells starting with one of the labels, spaces allowed anywhere ("合  计", "制表人：");
    with `at_end` also cells ending with one ("万安社区小计")."""

    def one(label: str) -> str:
        return r"\s*".join("[:：]" if ch == ":" else re.escape(ch) for ch in label)

    alternatives = "|".join(one(label) for label in sorted(labels, key=len, reverse=True))
    start = r"^\s*(?:" + alternatives + ")"
    return start + (r"|(?:" + alternatives + r")\s*[:：]?\s*$" if at_end else "")


def _any_cell(columns: list[str], regex: str) -> pl.Expr:
    return pl.any_horizontal([pl.col(c).str.contains(regex).fill_null(False) for c in columns])


def _blank(columns: list[str]) -> pl.Expr:
    return pl.all_horizontal([pl.col(c).is_null() | pl.col(c).str.contains(r"^\s*$") for c in columns])


def _has_identity(header: Header) -> pl.Expr:
    """Rows holding an ID or card are data even if a cell looks like a label (nothing is lost)."""
    cols = sorted({header.columns[r] for r in IDENTITY_ROLES if r in header.columns})
    if not cols:
        return pl.lit(False)
    return pl.any_horizontal([pl.col(c).str.contains(_IDENTITY_DIGITS).fill_null(False) for c in cols])


def header_texts(frame: pl.DataFrame, header: Header) -> list[str]:
    """The header line's text in the main identity column (spaces removed), to recognise it
    when it is printed again on every page."""
    role = next((r for r in IDENTITY_ROLES if r in header.columns), None)
    if role is None:
        return []
    col = header.columns[role]
    texts = [
        re.sub(r"\s+", "", v or "")
        for v in frame.slice(header.top, header.bottom - header.top + 1)[col].to_list()
    ]
    return [t for t in texts if t]


def _repeated_header(header: Header, texts: list[str]) -> pl.Expr:
    """A header line printed again on every page is not data."""
    role = next((r for r in IDENTITY_ROLES if r in header.columns), None)
    if role is None or not texts:
        return pl.lit(False)
    col = header.columns[role]
    return pl.col(col).str.replace_all(r"\s+", "").is_in(texts).fill_null(False)


@dataclass(frozen=True)
class Body:
    frame: pl.DataFrame  # role columns (Utf8) + source_row (Int32), data rows only
    control_total: Decimal | None
    # The amount cells of the total rows of each tier (总计, 合计, 小计) in these rows, as written:
    # a table read in parts adds its parts' cells up before control_total_of decides.
    total_cells: tuple[tuple[str | None, ...], ...] = ()


def table_body(frame: pl.DataFrame, header: Header, aliases: ColumnAliases) -> Body:
    """Data rows under the header; total, signature, repeated-header and blank rows removed."""
    return body_rows(
        frame.slice(header.bottom + 1), header, aliases, header.bottom + 2, header_texts(frame, header)
    )


def body_rows(
    rows: pl.DataFrame, header: Header, aliases: ColumnAliases, first_row: int, repeated: list[str]
) -> Body:
    """The data rows among `rows` (all below the header; the first is spreadsheet row `first_row`).

    A row that carries an ID or card number is data whatever else it says (nothing is
    lost), so only the few rows without one are tested for blankness and labels (合计,
    制表人 ...): one regex over the main ID column is the only whole-sheet test.
    """
    body = rows.with_row_index("source_row", offset=first_row)
    body = body.with_columns(pl.col("source_row").cast(pl.Int32))
    main_id = next(header.columns[r] for r in IDENTITY_ROLES if r in header.columns)
    without_id = body.filter(~pl.col(main_id).str.contains(_IDENTITY_DIGITS).fill_null(False))
    without_id = without_id.filter(~_has_identity(header))
    blank = _blank(sorted(set(header.columns.values())))
    suspects = without_id.filter(~blank)
    labels = _label_flags(suspects, rows, header, aliases, repeated)
    dropped = pl.concat(
        [without_id.filter(blank)["source_row"], labels.filter(pl.col("__not_data"))["source_row"]]
    )
    data = body.filter(~pl.col("source_row").is_in(dropped.implode())) if dropped.len() else body
    selected = data.select(
        [pl.col(col).alias(role) for role, col in header.columns.items()] + [pl.col("source_row")]
    )
    cells = _total_cells(suspects, labels, header, len(aliases.total_tiers))
    return Body(selected, control_total_of(cells), cells)


def _label_flags(
    suspects: pl.DataFrame, frame: pl.DataFrame, header: Header, aliases: ColumnAliases, repeated: list[str]
) -> pl.DataFrame:
    """Per suspect row: which total tier it belongs to, and whether it is not data at all.

    Page and running totals (本页合计, 累计) are skipped but never counted in a tier, even
    though "本页合计" also ends with "合计".
    """
    cells = list(frame.columns)
    other_totals = _any_cell(cells, _label_regex(aliases.other_totals, at_end=True))
    tiers = [
        _any_cell(cells, _label_regex(tier, at_end=True)) & ~other_totals for tier in aliases.total_tiers
    ]
    signatures = _any_cell(cells, _label_regex(aliases.signatures))
    return suspects.select(
        "source_row",
        *[t.alias(f"__tier{i}") for i, t in enumerate(tiers)],
        pl.any_horizontal([*tiers, other_totals, signatures, _repeated_header(header, repeated)]).alias(
            "__not_data"
        ),
    )


def _total_cells(
    suspects: pl.DataFrame, labels: pl.DataFrame, header: Header, tiers: int
) -> tuple[tuple[str | None, ...], ...]:
    """The amount cells of each tier's total rows (empty tuples when the table has no amount column)."""
    amount_col = header.columns.get("amount")
    if amount_col is None:
        return ()
    return tuple(tuple(suspects.filter(labels[f"__tier{i}"])[amount_col].to_list()) for i in range(tiers))


def control_total_of(cells: tuple[tuple[str | None, ...], ...]) -> Decimal | None:
    """Sum of the amount cells of the first tier of total rows present (总计, else 合计, else 小计);
    None when there is none or one cannot be read."""
    for values in cells:
        if values:
            parsed = [parse_amount(v) for v in values]
            amounts = [p for p in parsed if p is not None]
            return None if len(amounts) < len(parsed) else sum(amounts, Decimal(0))
    return None


def add_total_cells(
    a: tuple[tuple[str | None, ...], ...], b: tuple[tuple[str | None, ...], ...]
) -> tuple[tuple[str | None, ...], ...]:
    """The total cells of two parts of one table, tier by tier."""
    if not a or not b:
        return a or b
    return tuple(x + y for x, y in zip(a, b))


def parse_amount(text: str | None) -> Decimal | None:
    """An amount cell of a total row: '1,350.00元', '￥1350' -> Decimal; None when unreadable."""
    if text is None:
        return None
    cleaned = re.sub(r"[,\s元¥]", "", unicodedata.normalize("NFKC", text))
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def count_body_rows(frame: pl.DataFrame, header: Header, aliases: ColumnAliases) -> int:
    return table_body(frame, header, aliases).frame.height


def non_blank_rows(frame: pl.DataFrame) -> int:
    if frame.width == 0:
        return 0
    return int(frame.select((~_blank(frame.columns)).sum()).item())


def fill_merged_cells(frame: pl.DataFrame, header: Header, merges: pl.DataFrame) -> pl.DataFrame:
    """Give every row of a vertically merged place/program/period cell the value of its first row.

    Only cells inside a merged range are filled: a cell that is simply empty stays empty.
    `merges` has first_row/last_row (1-based) and first_col/last_col (0-based).
    """
    for role in FILL_DOWN_ROLES:
        if role not in frame.columns or frame[role].null_count() == 0:
            continue
        col = int(header.columns[role][1:])
        spans = merges.filter(
            (pl.col("first_col") <= col)
            & (pl.col("last_col") >= col)
            & (pl.col("last_row") > pl.col("first_row"))
        )
        if spans.height == 0:
            continue
        covered = spans.select(
            pl.int_ranges(pl.col("first_row") + 1, pl.col("last_row") + 1, dtype=pl.Int32).alias(
                "source_row"
            ),
            pl.col("first_row").alias("__anchor"),
        ).explode("source_row")
        anchors = frame.select(pl.col("source_row").alias("__anchor"), pl.col(role).alias("__anchor_value"))
        frame = (
            frame.join(covered, on="source_row", how="left", maintain_order="left")
            .join(anchors, on="__anchor", how="left", maintain_order="left")
            .with_columns(pl.coalesce(role, "__anchor_value").alias(role))
            .drop("__anchor", "__anchor_value")
        )
    return frame


def needs_merge_fill(frame: pl.DataFrame) -> bool:
    """Only sheets with empty place/program/period cells are worth looking up merged ranges for."""
    return any(frame[r].null_count() > 0 for r in FILL_DOWN_ROLES if r in frame.columns)
