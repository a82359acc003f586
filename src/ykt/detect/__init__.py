"""Detection: the closed rule registry (rules/rules.yaml + one SQL file per rule) and the runner."""

from ykt.detect.model import CaseText, Rule, RuleRegistry
from ykt.detect.programs import install_programs
from ykt.detect.registry import CASE_TEXT_FIELDS, default_ruleset_dir, load_registry
from ykt.detect.runner import run_rules

__all__ = [
    "CASE_TEXT_FIELDS",
    "CaseText",
    "Rule",
    "RuleRegistry",
    "default_ruleset_dir",
    "install_programs",
    "load_registry",
    "run_rules",
]
