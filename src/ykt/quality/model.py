"""The data-quality step's outcome as plain data (run.json `quality`, the report's 数据质量 section)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class KindValidation:
    """The outcome of one kind's suite."""

    kind: str
    batches: int  # files of that kind loaded by this run
    rows: int
    expectations: int
    failed: int
    success: bool


@dataclass(frozen=True)
class QualityFailure:
    kind: str
    expectation: str  # GX expectation type, for IT staff
    column: str | None  # the loaded column the check is about
    unexpected: int | None  # rows that broke it (None for table-level checks)
    description: str  # Chinese: what is wrong and where (file, row)


@dataclass(frozen=True)
class QualitySummary:
    validations: tuple[KindValidation, ...] = ()
    failures: tuple[QualityFailure, ...] = ()
    docs: Path | None = None
    seconds: Mapping[str, float] = field(default_factory=dict)  # import / validate / docs

    @property
    def success(self) -> bool:
        return all(v.success for v in self.validations)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (run.json `quality`, the report's 数据质量 section)."""
        return {
            "success": self.success,
            "validations": [asdict(v) for v in self.validations],
            "failures": [asdict(f) for f in self.failures],
            # relative to the output folder, where the report that quotes it also lives
            "docs": None if self.docs is None else f"{self.docs.parent.name}/{self.docs.name}",
            "seconds": {k: round(v, 2) for k, v in self.seconds.items()},
        }
