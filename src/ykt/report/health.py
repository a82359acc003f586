"""A night's health: whether it understood its input, so that a night that did not never reads "all clear".

Built from what the report already holds (the files this run saw, the night's findings, the row
accounting) by pure functions; run.json carries it as `health` and `ykt run` turns it into its exit
code. The contract other systems read:
`{"status": "ok" | "attention" | "failed", "reasons": [{"code", "message", "file"?, "program_code"?, "period"?}]}`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from ykt.config import Settings
from ykt.reasons import FILE_REASONS

# Findings that say the night could not reconcile a program-period as it stands (rules/rules.yaml).
GAP_RULES = {"COVERAGE": "COVERAGE_GAP", "PROGRAM_STALLED": "PROGRAM_STALLED"}
LAYOUT_ALARM = "FILE_LAYOUT_SUSPECT"
# Process exit codes of `ykt run` by health status: 3 = ran, needs attention; 1 = the night failed.
EXIT_CODES = {"ok": 0, "attention": 3, "failed": 1}


@dataclass(frozen=True)
class HealthReason:
    code: str  # ykt.reasons.HEALTH_REASONS
    message: str  # Chinese, for the person who must act on it
    file: str | None = None
    program_code: str | None = None
    period: str | None = None

    def as_dict(self) -> dict[str, str]:
        optional = {"file": self.file, "program_code": self.program_code, "period": self.period}
        return {"code": self.code, "message": self.message, **{k: v for k, v in optional.items() if v}}


@dataclass(frozen=True)
class Health:
    status: str  # ok | attention | failed
    reasons: tuple[HealthReason, ...]

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.status]

    def as_dict(self) -> dict[str, Any]:
        return {"status": self.status, "reasons": [r.as_dict() for r in self.reasons]}


@dataclass(frozen=True)
class FileLine:
    """One line of run.json `files` (one inbox file seen by this run)."""

    name: str
    kind: str
    status: str  # loaded | duplicate | rejected
    rows_read: int
    rows_loaded: int
    rows_rejected: int
    reason: str | None
    reason_code: str | None  # why the file was not loaded (ykt.reasons.FILE_REASONS); None when loaded
    inferences: tuple[str, ...]  # what reading it inferred rather than read, in Chinese


def night_health(files: Sequence[FileLine], findings: pl.DataFrame, settings: Settings) -> Health:
    """The night's health from its files and its findings (columns rule, program_code, period, detail)."""
    failed = _failures(files)
    reasons = (
        *failed,
        *_gap_reasons(findings),
        *_rejected_files(files),
        *_reject_share(files, settings.attention_reject_share),
    )
    if any(r.code == "ALL_FILES_REJECTED" for r in failed):
        return Health("failed", reasons)
    return Health("attention" if reasons else "ok", reasons)


def _failures(files: Sequence[FileLine]) -> tuple[HealthReason, ...]:
    if not files:
        return (
            HealthReason(
                "NO_INPUT_FILES", "收件目录中没有任何文件，本次核对没有读取到新数据，请确认收件目录是否正确"
            ),
        )
    if all(f.status == "rejected" for f in files):
        return (
            HealthReason(
                "ALL_FILES_REJECTED",
                f"收到的 {len(files)} 个文件全部被拒收，本次核对没有可用的新数据；请按各文件的拒收原因修正后重新上传",
            ),
        )
    return ()


def _gap_reasons(findings: pl.DataFrame) -> tuple[HealthReason, ...]:
    """One reason per coverage gap and per stalled program-period, in program and period order."""
    gaps = findings.filter(pl.col("rule").is_in(list(GAP_RULES))).sort("rule", "program_code", "period")
    return tuple(
        HealthReason(GAP_RULES[rule], detail or "", program_code=program or None, period=period or None)
        for rule, program, period, detail in gaps.select(
            "rule", "program_code", "period", "detail"
        ).iter_rows()
    )


def _rejected_files(files: Sequence[FileLine]) -> tuple[HealthReason, ...]:
    def reason(f: FileLine) -> HealthReason:
        code = "FILE_LAYOUT_SUSPECT" if f.reason_code == LAYOUT_ALARM else "FILE_REJECTED"
        why = f.reason or FILE_REASONS.get(f.reason_code or "", "原因不明")
        return HealthReason(code, f"文件“{f.name}”整份拒收：{why}", file=f.name)

    return tuple(reason(f) for f in files if f.status == "rejected")


def _reject_share(files: Sequence[FileLine], limit: float) -> tuple[HealthReason, ...]:
    read = sum(f.rows_read for f in files if f.status != "duplicate")
    rejected = sum(f.rows_rejected for f in files if f.status != "duplicate")
    if not read or rejected / read <= limit:
        return ()
    message = f"拒收 {rejected:,} 行，占读取行数 {read:,} 行的 {rejected / read:.1%}，超过 {limit:.0%}；请查看拒收明细"
    return (HealthReason("REJECTS_ABOVE_SHARE", message),)
