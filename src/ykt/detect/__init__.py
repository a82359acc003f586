"""Detection: the closed rule registry (rules/rules.yaml + one SQL file per rule) and the runner."""

from ykt.detect.engine import Rule, RuleRegistry, load_registry, run_rules

__all__ = ["Rule", "RuleRegistry", "load_registry", "run_rules"]
