"""What an orchestrator shows about a finished night: a short markdown summary and the night's new cases.

The Prefect flow publishes them as artifacts of its run (flows/nightly.py), so whoever watches the
Prefect UI sees the night's health, its counts, where the reports are and which cases it opened, without
opening a file. Built from the night's result and its own cases.jsonl (what the platform receives: no
ID or card number in it); the table leaves out each case's free-text summary, which names people.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from ykt.labels import HEALTH_STATUS_LABELS

if TYPE_CHECKING:
    from ykt.pipeline import NightResult

# The new-case table's columns (cases.jsonl fields) and their headings.
NEW_CASE_COLUMNS = {
    "case_id": "案件编号",
    "rule": "问题类型",
    "program_name": "补贴项目",
    "period": "所属期",
    "township": "乡镇（街道）",
    "village": "村（社区）",
    "persons": "人数",
    "amount": "金额（元）",
    "department": "承办部门",
    "deadline": "办理期限",
}


def night_markdown(result: NightResult, county: str | None = None) -> str:
    """The night in a few lines: health and its reasons, counts per step, and where each report is."""
    health, cases, files = result.health, result.case_counts, result.files
    title = f"{county or ''}{result.as_of} 夜间核对：{HEALTH_STATUS_LABELS[health.status]}"
    lines = [f"# {title}", "", f"运行编号 `{result.run_id}`", ""]
    lines += [f"- **[{r.code}]** {_cell(r.message)}" for r in health.reasons] or [
        "- 输入完整，无需关注的问题"
    ]
    lines += [
        "",
        "| 步骤 | 结果 |",
        "|---|---|",
        f"| 读取收件 | 文件 {len(files)} 个，入库 {sum(f.rows_loaded for f in files)} 行，"
        f"拒收 {sum(f.rows_rejected for f in files)} 行 |",
        f"| 核对规则 | 发现问题 {sum(result.rule_counts.values())} 条 |",
    ]
    if cases is not None:
        lines.append(
            f"| 案件 | 新立 {cases.opened}、重新立案 {cases.reopened}、督办 {cases.escalated}、办结 {cases.resolved}；"
            f"办理中 {cases.open_total} |"
        )
    if result.delivery is not None:
        lines.append(f"| 推送平台 | {_cell(str(result.delivery))} |")
    lines += ["", "| 报告 | 位置 |", "|---|---|"]
    lines += [f"| {name} | `{path.absolute()}` |" for name, path in sorted(result.outputs.items())]
    return "\n".join(lines) + "\n"


def new_case_rows(result: NightResult) -> list[dict[str, Any]]:
    """The complaint cases this night opened (from its cases.jsonl), largest amount first."""
    path = result.outputs.get("cases.jsonl")
    if path is None or not Path(path).is_file() or Path(path).stat().st_size == 0:
        return []
    cases = pl.read_ndjson(path, infer_schema_length=None)
    if "opened_on" not in cases.columns:
        return []
    new = cases.filter(pl.col("opened_on") == result.as_of.isoformat()).sort("amount", descending=True)
    return new.select([pl.col(c).alias(label) for c, label in NEW_CASE_COLUMNS.items()]).to_dicts()


def _cell(text: str) -> str:
    """One markdown table cell or list item: no line breaks, no column bars."""
    return " ".join(text.split()).replace("|", "｜")
