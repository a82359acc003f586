"""Data Docs that read without the internet, with our Chinese notes on top.

GX's templates load Bootstrap, jQuery, bootstrap-table and Font Awesome from CDNs, which county
intranets cannot reach; without them the index lists nothing and a check's pass/fail icon is blank.
Every page GX writes is rewritten here (`offline_page`).
"""

from __future__ import annotations

import ast
import html
import re
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import polars as pl

from ykt.labels import BATCH_LABELS, CHECK_OUTCOME_LABELS, DATA_DOCS_LABELS
from ykt.masking import mask_value_expr
from ykt.quality.model import KindValidation, QualityFailure

# GX's CDN assets: <script src="https://…"></script>, <link href="https://…">, its logo <img src="https://…">.
EXTERNAL_ASSET = re.compile(
    r'<script\b[^>]*\bsrc="https?://[^"]*"[^>]*>\s*</script>'
    r'|<(?:link|img)\b[^>]*\b(?:href|src)="https?://[^>]*>',
    re.IGNORECASE,
)
EXTERNAL_CSS_URL = re.compile(r"url\(\s*['\"]?https?://[^)]*\)", re.IGNORECASE)
INLINE_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>", re.DOTALL | re.IGNORECASE)
# GX fills its index tables in the browser: bootstrap-table reads columns and rows written as Python literals.
BOOTSTRAP_TABLE = re.compile(
    r"\$\('#(?P<id>[\w-]+)'\)\.bootstrapTable\(\s*Object\.assign\(\s*\{\s*"
    r"columns: (?P<columns>\[.*?\]),\s*data: (?P<data>\[.*?\]),\s*toolbar:",
    re.DOTALL,
)
EMPTY_TABLE = re.compile(r'<table\s[^>]*\bid="(?P<id>[\w-]+)"[^>]*>\s*</table>')
# Font Awesome status icons are blank without the font: give them words.
STATUS_ICON = re.compile(r'(<i class="fas (?P<icon>fa-check-circle|fa-times)\b[^"]*"[^>]*>)\s*</i>')
# GX's page labels as whole text nodes (longest first, so "Expectation Suite Name" is not read as "Expectation").
PAGE_LABEL = re.compile(
    r">(\s*)(" + "|".join(re.escape(t) for t in sorted(DATA_DOCS_LABELS, key=len, reverse=True)) + r")(\s*)<"
)
# Every frame GX validates has one row per file (a kind's statistics; the run's files).
UNEXPECTED_FILES = re.compile(r"(\d+) unexpected values found\. (≈?[\d.]+)% of (\d+) total rows\.")
NONE_UNEXPECTED = re.compile(r"(≈?[\d.]+)% unexpected\b")
GX_FOOTER = re.compile(
    r"<footer\b.*?</footer>", re.DOTALL
)  # GX's newsletter: nothing for a county's IT staff
# An observed value that is a plain count or amount (never an ID or card: at most 12 digits).
OBSERVED_NUMBER = re.compile(r'(<div class="show-scrollbars">)(\d{1,12})(?:\.(\d+))?(</div>)')
OFFLINE_CSS = """
body { font-family: "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", sans-serif; margin: 1rem 2rem; color: #222; }
table { border-collapse: collapse; margin: .5rem 0 1rem; }
th, td { border: 1px solid #ccc; padding: .25rem .5rem; text-align: left; vertical-align: top; }
th { background: #f2f2f2; }
.text-danger, .ykt-notes { color: #b00020; }
.text-success { color: #1b7f3b; }
.text-danger, .text-success { font-style: normal; font-weight: bold; white-space: nowrap; }
.ykt-notes { border: 2px solid #b00020; padding: .5rem 1rem; margin-bottom: 1.5rem; }
.ykt-notes.ykt-ok { border-color: #1b7f3b; color: #1b7f3b; }
.btn, .card:has(.btn-group-toggle), .ge-walkthrough-modal, [id$="-toolbar"] { display: none; }  /* need JS */
.row { display: flex; flex-wrap: wrap; gap: 1.5rem; }
.row > [class*="col-lg-2"] { flex: 0 0 14rem; }
.row > [class*="col-lg-10"] { flex: 1 1 0; min-width: 0; }
"""


def offline_page(page: str, notes: Sequence[str] = (), ok: bool = False) -> str:
    """One Data Docs page that reads without the internet.

    Drops the CDN assets (they can never load here; their scripts block the page while the browser
    waits), the inline scripts (none runs without jQuery), writes GX's script-filled tables as plain
    tables, puts words next to the pass/fail icons, inlines a small stylesheet of ours, puts the
    Chinese `notes` (what failed, in which file and row) at the top of the page, writes GX's own labels
    in Chinese and its observed numbers with separators, and masks every long digit run (GX quotes the
    values that failed a check: ID and card numbers too).
    """
    tables = {
        m["id"]: _static_table(ast.literal_eval(m["columns"]), ast.literal_eval(m["data"]))
        for m in BOOTSTRAP_TABLE.finditer(page)
    }
    page = INLINE_SCRIPT.sub("", EXTERNAL_ASSET.sub("", page))
    page = EXTERNAL_CSS_URL.sub("none", page)
    page = EMPTY_TABLE.sub(lambda m: tables.get(m["id"], m[0]), page)
    page = STATUS_ICON.sub(lambda m: f"{m[1]}{CHECK_OUTCOME_LABELS[m['icon']]}</i>", page)
    page = _in_chinese(GX_FOOTER.sub("", page))
    page = page.replace("</head>", f"<style>{OFFLINE_CSS}</style></head>", 1)
    page = re.sub(r"<body\b[^>]*>", lambda m: m[0] + _notes_block(notes, ok), page, count=1)
    masked: str = pl.select(mask_value_expr(pl.lit(page))).item()
    return masked


def _in_chinese(page: str) -> str:
    """GX's page labels and outcome sentences in Chinese, its observed counts and amounts with separators."""
    page = PAGE_LABEL.sub(lambda m: f">{m[1]}{DATA_DOCS_LABELS[m[2]]}{m[3]}<", page)
    page = UNEXPECTED_FILES.sub(lambda m: f"{m[1]} 个文件不符合（共 {m[3]} 个，占 {m[2]}%）", page)
    page = NONE_UNEXPECTED.sub(lambda m: f"{m[1]}% 不符合", page)
    return OBSERVED_NUMBER.sub(_observed_number, page)


def _observed_number(m: re.Match[str]) -> str:
    number = f"{int(m[2]):,}" if m[3] is None else f"{float(f'{m[2]}.{m[3]}'):,.2f}"
    return f"{m[1]}{number}{m[4]}"


def _static_table(columns: Sequence[Mapping[str, Any]], rows: Sequence[Mapping[str, Any]]) -> str:
    """bootstrap-table's columns and rows as a plain <table>; a row's link goes on its first cell.

    Cell values are HTML that GX rendered (icons, links), so they are kept as they are.
    """
    head = "".join(f"<th>{html.escape(str(c.get('title') or c['field']))}</th>" for c in columns)
    body = "".join(
        "<tr>"
        + "".join(
            f"<td>{_linked(row, c['field']) if i == 0 else row.get(c['field'], '')}</td>"
            for i, c in enumerate(columns)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _linked(row: Mapping[str, Any], field_name: str) -> str:
    cell, link = row.get(field_name, ""), row.get("_table_row_link_path")
    return f'<a href="{html.escape(link)}">{cell}</a>' if link else str(cell)


def _notes_block(notes: Sequence[str], ok: bool) -> str:
    if not notes:
        return ""
    items = "".join(f"<li>{html.escape(n)}</li>" for n in notes)
    title = "数据质量检查全部通过" if ok else "数据质量问题"
    return f'<section class="ykt-notes{" ykt-ok" if ok else ""}"><h2>{title}</h2><ul>{items}</ul></section>'


def make_offline(
    docs_dir: Path, validations: Sequence[KindValidation], failures: Sequence[QualityFailure]
) -> None:
    """Rewrite every page of the site with `offline_page`; the index and each result page say what failed."""
    every_kind = {v.kind for v in validations}
    for page in docs_dir.rglob("*.html"):
        parts = page.relative_to(docs_dir).parts
        kinds = every_kind
        if parts[0] == "validations":  # validations/ykt_<kind>/<run>/<time>/<page>.html
            kinds = {parts[1].removeprefix("ykt_")}
        elif parts != ("index.html",):  # an expectation suite: the checks themselves, no outcome
            kinds = set()
        shown = [v for v in validations if v.kind in kinds]
        notes = [_kind_line(v) for v in shown] + [f.description for f in failures if f.kind in kinds]
        ok = all(v.success for v in shown)
        page.write_text(offline_page(page.read_text(encoding="utf-8"), notes, ok), encoding="utf-8")


def _kind_line(v: KindValidation) -> str:
    outcome = "全部通过" if v.success else f"{v.failed} 项未通过"
    return (
        f"{BATCH_LABELS.get(v.kind, v.kind)}（套件 ykt_{v.kind}）：{v.batches:,} 个文件、{v.rows:,} 行，"
        f"{v.expectations} 项检查，{outcome}"
    )


def replace_dir(new: Path, target: Path) -> None:
    """Swap the freshly built docs into place; last night's docs stay readable until the swap."""
    old = target.with_name(f".{target.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.rename(old)
    new.rename(target)
    shutil.rmtree(old, ignore_errors=True)
