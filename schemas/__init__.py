"""The contract between pipeline stages: pandera models per stage and kind, and the formats they check."""

from ykt.schemas.models import (
    ID_PATTERN,
    INVALID_REASONS,
    MISSING_REASONS,
    MODELS,
    PERIOD_PATTERN,
    STATUSES,
)

__all__ = ["ID_PATTERN", "INVALID_REASONS", "MISSING_REASONS", "MODELS", "PERIOD_PATTERN", "STATUSES"]
