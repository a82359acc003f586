"""A clerk's upload, from hostile bytes to a file in the county's inbox.

1. **Received** under a size limit, streamed in chunks into a file named by nothing the clerk chose,
   hashed as it arrives; over the limit it is deleted and refused.
2. **Typed by content**, never by its name: OLE2 → .xls, a zip package → .xlsx or .ods (its zip
   directory judged first by the reading budgets of ykt.ingest, so a zip bomb is refused before any
   member is unpacked; the package's own XML read through defusedxml), text that decodes → .csv;
   anything else is refused.
3. **Stored by hash** (`uploads/<county>/blobs/<sha256><suffix>`); the clerk's file name is kept in
   the portal database and shown, and only a whitelisted form of it (letters, digits, CJK, no dots or
   separators) names the working copy, because the program and period are often only in the name.
4. **Checked** by `ykt check`'s own code (ykt.check.check_files: the night's validation); its
   annotated copy is what the clerk downloads.
5. **Accepted** into `<inbox>/<kind folder>/` through the content-hash archive (ykt.ingest), once:
   bytes already accepted or archived are a duplicate, and said so.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import polars as pl
from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

from ykt.check import CheckResult, check_files
from ykt.config import Programs
from ykt.counties import County
from ykt.errors import InputFileError
from ykt.ingest import CheckedTable, ColumnAliases, archive_file, archived_path, check_zip_directory
from ykt.kinds import KIND_SPECS
from ykt.labels import ROLE_LABELS
from ykt.masking import mask_value_expr, printable
from ykt.reasons import ROW_FIX_DEFAULT, ROW_FIXES

MB = 1 << 20
DEFAULT_MAX_UPLOAD_BYTES = 50 * MB
_CHUNK = 1 << 20
_SNIFF_BYTES = 64 << 10
_XML_MAX = 1 << 20  # [Content_Types].xml is a few KB; a larger one is not read
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP = b"PK\x03\x04"
_ODS_MIME = b"application/vnd.oasis.opendocument.spreadsheet"
_XLSX_MAIN = "spreadsheetml.sheet.main"
_SAFE_CHARS = re.compile(r"[^0-9A-Za-z_\u4e00-\u9fff\u3400-\u4dbf（）()\-]+")
UPLOAD_HELP = "请上传 Excel（.xlsx .xls）、WPS/LibreOffice 表格（.ods）或 CSV/TXT 文本文件"


class UploadRefused(Exception):
    """An upload that is not kept at all (too large, not a spreadsheet, a zip bomb): the Chinese reason."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Received:
    path: Path  # the bytes, in the county's blob store under their hash
    file_hash: str
    suffix: str  # decided by the content
    size: int


def receive(source: BinaryIO, blobs: Path, max_bytes: int, programs: Programs) -> Received:
    """Stream `source` into the blob store under its sha256; UploadRefused when it is too large, not a
    spreadsheet or a zip bomb (nothing is kept then)."""
    blobs.mkdir(mode=0o700, parents=True, exist_ok=True)
    partial = blobs / f".incoming.{os.getpid()}.{os.urandom(6).hex()}.partial"
    digest, size = hashlib.sha256(), 0
    try:
        with open(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out:
            while chunk := source.read(_CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise UploadRefused(f"文件超过 {max_bytes // MB} MB 上限，未保存；请按乡镇拆分后分别上传")
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            raise UploadRefused("文件是空的（0 字节）；请重新选择文件")
        suffix = sniff(partial, programs)
        target = blobs / f"{digest.hexdigest()}{suffix}"
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return Received(target, digest.hexdigest(), suffix, size)


def sniff(path: Path, programs: Programs) -> str:
    """The file's format from its first bytes (its name is never consulted)."""
    with open(path, "rb") as handle:
        head = handle.read(_SNIFF_BYTES)
    if head.startswith(_OLE2):
        return ".xls"
    if head.startswith(_ZIP):
        return _zip_format(path, programs)
    if b"\x00" in head or not _decodes(head):
        raise UploadRefused(f"文件内容不是表格（无论文件名是什么）；{UPLOAD_HELP}")
    return ".csv"


def _decodes(head: bytes) -> bool:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            head.decode(encoding)
            return True
        except UnicodeDecodeError as exc:
            if exc.start >= len(head) - 4:  # the sample cut a character in two
                return True
    return False


def _zip_format(path: Path, programs: Programs) -> str:
    try:
        check_zip_directory(path, programs.settings)  # before any member is unpacked
    except InputFileError as exc:
        raise UploadRefused(f"{exc.message}。{exc.hint or ''}".rstrip("。") + "。") from None
    try:
        with zipfile.ZipFile(path) as package:
            names = set(package.namelist())
            if "mimetype" in names and package.read("mimetype")[:200].startswith(_ODS_MIME):
                return ".ods"
            info = package.getinfo("[Content_Types].xml") if "[Content_Types].xml" in names else None
            if info is not None and info.file_size <= _XML_MAX:
                types = ElementTree.fromstring(package.read(info), forbid_dtd=True)
                if any(_XLSX_MAIN in (node.get("ContentType") or "") for node in types.iter()):
                    return ".xlsx"
    except (DefusedXmlException, ElementTree.ParseError):  # before ValueError: defusedxml's are ValueErrors
        raise UploadRefused("文件内部的 XML 含有不允许的结构（实体或文档类型定义），已拒收") from None
    except (zipfile.BadZipFile, OSError, ValueError, KeyError):
        raise UploadRefused(f"文件已损坏，无法作为压缩表格打开；{UPLOAD_HELP}") from None
    raise UploadRefused(f"这是一个压缩包，但不是 Excel 或 ODS 表格；{UPLOAD_HELP}")


def safe_stem(name: str) -> str:
    """The clerk's file name as a harmless single path component: its last part, without suffix, only
    letters, digits, CJK, brackets and -/_ (never a dot or a separator), at most 60 characters."""
    last = re.split(r"[/\\]", name)[-1]
    stem = last.rsplit(".", 1)[0] if "." in last else last
    return _SAFE_CHARS.sub("_", stem).strip("_-")[:60] or "上传文件"


def working_copy(blob: Path, folder: Path, stem: str, suffix: str) -> Path:
    """A hard link (or copy) of the blob named `<stem><suffix>` inside the upload's own folder."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    for old in folder.iterdir():  # a re-check with the clerk's choices starts clean
        old.unlink()
    target = folder / f"{stem}{suffix}"
    try:
        os.link(blob, target)
    except OSError:
        shutil.copyfile(blob, target)
    return target


def check_upload(
    path: Path, programs: Programs, aliases: ColumnAliases, kind: str | None = None
) -> CheckResult:
    """`ykt check` on the working copy; the annotated copy is written beside it."""
    return check_files([path], programs, aliases, kind=kind)[0]


def composed_stem(original: str, program_name: str | None, period: str | None) -> str:
    """The working copy's name: the clerk's choices when given (they override what the name says)."""
    if program_name or period:
        return safe_stem(f"{program_name or ''}{period or ''}")
    return safe_stem(original)


def accept(work: Path, received_hash: str, kind: str, county: County, login: str) -> Path:
    """Archive the bytes under their hash (ykt.ingest's archive, the night's own) and place the working
    copy in the county's inbox folder of its kind; returns the inbox file."""
    archive = county.db.resolve().parent / "archive"
    archive_file(work, archive, received_hash, original=work, uploaded_by=f"web:{login}")
    folder = county.inbox / KIND_SPECS[kind].inbox_folder
    folder.mkdir(parents=True, exist_ok=True)
    target = next(
        candidate for candidate in _candidates(folder, work.stem, work.suffix) if not candidate.exists()
    )
    partial = folder / f".{received_hash}.partial"  # hidden from the night until renamed
    shutil.copyfile(work, partial)
    partial.chmod(0o600)
    os.replace(partial, target)
    return target


def _candidates(folder: Path, stem: str, suffix: str) -> Iterator[Path]:
    # a full-width bracketed counter: the period readers (2024-09, 202409) see no extra digits beside it
    yield folder / f"{stem}{suffix}"
    n = 2
    while True:
        yield folder / f"{stem}（{n}）{suffix}"
        n += 1


def already_archived(county: County, file_hash: str, suffix: str) -> bool:
    """Bytes the county's nights have already received (the archive keeps every inbox file)."""
    return archived_path(county.db.resolve().parent / "archive", file_hash, suffix).exists()


def display_name(name: str) -> str:
    """The clerk's file name as pages, the history and the audit log keep it: control characters written
    out, an ID or card number in it masked (张三510723199001011234.xlsx), at most 200 characters."""
    return str(pl.select(mask_value_expr(pl.lit(printable(name)[:200]))).item())


# -- what the result page shows --------------------------------------------------------------------------

PROBLEM_ROWS_SHOWN = 500  # the page lists this many problem cells; the annotated copy marks them all
RESULT_FILE = "result.json"
# The file cannot be read as meant without the clerk saying what it is: the page asks for these.
NEEDS_CHOICE = frozenset(
    {"FILE_PROGRAM_UNKNOWN", "FILE_PROGRAM_AMBIGUOUS", "FILE_PERIOD_UNKNOWN", "FILE_KIND_UNKNOWN"}
)
ROW_NEEDS_CHOICE = frozenset({"PROGRAM_MISSING", "PERIOD_MISSING"})


def result_view(result: CheckResult, programs: Programs) -> dict[str, object]:
    """The check's outcome as plain JSON-ready data (values already masked by the validation)."""
    names = {p.code: p.name for p in programs.programs}
    tables = [_table_view(table, names) for table in result.tables]
    rejects = result.rejects
    problems: list[dict[str, object]] = []
    if rejects is not None and rejects.height:
        fixes = pl.DataFrame(
            {"reason_code": list(ROW_FIXES), "fix": list(ROW_FIXES.values())},
            schema={"reason_code": pl.Utf8, "fix": pl.Utf8},
        )
        positions = pl.DataFrame(
            [(t.sheet or "", label, col) for t in result.tables for label, col in t.columns.items()],
            schema={"sheet": pl.Utf8, "column": pl.Utf8, "col": pl.Int64},
            orient="row",
        ).unique(subset=["sheet", "column"], keep="first")
        shown = (
            rejects.sort("sheet", "row", nulls_last=True)
            .head(PROBLEM_ROWS_SHOWN)
            .with_columns(pl.col("sheet").fill_null(""))
            .join(fixes, on="reason_code", how="left")
            .join(positions, on=["sheet", "column"], how="left")
            .with_columns(pl.col("fix").fill_null(ROW_FIX_DEFAULT))
        )
        problems = shown.to_dicts()
    codes = {code for code, _, _ in result.reasons}
    return {
        "ok": result.ok,
        "kind": result.kind,
        "kind_label": KIND_SPECS[result.kind].label
        if result.kind is not None and result.kind in KIND_SPECS
        else None,
        "rows_read": result.rows_read,
        "rows_rejected": result.rows_rejected,
        "rows_ok": result.rows_ok,
        "file_error": result.file_error,
        "file_reason_code": result.file_reason_code,
        "needs_choice": result.file_reason_code in NEEDS_CHOICE or bool(codes & ROW_NEEDS_CHOICE),
        "inferences": list(result.inferences),
        "reasons": [{"code": c, "reason": r, "rows": n} for c, r, n in result.reasons],
        "tables": tables,
        "problems": problems,
        "problems_total": 0 if rejects is None else rejects.height,
        "annotated": result.annotated.name if result.annotated is not None else None,
    }


def _table_view(table: CheckedTable, names: dict[str, str]) -> dict[str, object]:
    loaded = table.normalised.loaded
    spec = KIND_SPECS[table.normalised.kind]

    def distinct(column: str) -> list[str]:
        if column not in loaded.columns:
            return []
        return sorted(str(v) for v in loaded.get_column(column).unique().drop_nulls().to_list())

    total = table.normalised.detail_total
    return {
        "sheet": table.sheet or "",
        "programs": [names.get(code, code) for code in distinct("program_code")],
        "periods": distinct("period"),
        "rows_read": table.rows_read,
        "rows_ok": loaded.height,
        "total": None if total is None else f"{total:,.2f}",
        "amount_label": ROLE_LABELS["amount"] if spec.amount_column else None,
        "headers": [
            {"label": label, "role": ROLE_LABELS.get(role, role), "column": table.columns.get(label)}
            for role, label in table.headers.items()
        ],
    }


def save_view(folder: Path, view: dict[str, object]) -> None:
    partial = folder / f".{RESULT_FILE}.partial"
    partial.write_text(json.dumps(view, ensure_ascii=False, default=str), encoding="utf-8")
    os.replace(partial, folder / RESULT_FILE)


def load_view(folder: Path) -> dict[str, object] | None:
    try:
        value = json.loads((folder / RESULT_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


_PERIOD = re.compile(r"^20\d{2}(-(0[1-9]|1[0-2])|-Q[1-4])?$")


def periods_ok(period: str) -> bool:
    """A period as the form asks for it: 2024-09, 2024-Q3 or 2024."""
    return bool(_PERIOD.match(period))
