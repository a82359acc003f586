"""Validation of each stage against the pandera contract (schemas/), and failures as rejects rows."""

from ykt.ingest.validate.contract import (
    NO_REJECTS,
    ContractError,
    make_rejects,
    validate_loaded,
    validate_normalised,
    validate_raw,
)

__all__ = [
    "NO_REJECTS",
    "ContractError",
    "make_rejects",
    "validate_loaded",
    "validate_normalised",
    "validate_raw",
]
