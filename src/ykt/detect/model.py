"""The rule registry's typed values (rules.yaml and its SQL files, once loaded and validated)."""

from __future__ import annotations

from dataclasses import dataclass

from ykt.detect import sql


@dataclass(frozen=True)
class CaseText:
    """A case sentence of rules.yaml: literal text and named fields in turn (len(literals) = len(fields) + 1)."""

    literals: tuple[str, ...]
    fields: tuple[str, ...]


@dataclass(frozen=True)
class Absorption:
    """The findings of `rule` equal to this rule's finding on the `match` columns carry its case_id."""

    rule: str
    match: tuple[str, ...]


@dataclass(frozen=True)
class Suppression:
    """The findings of `rules` equal to this rule's finding on the `match` columns are dropped."""

    rules: tuple[str, ...]
    match: tuple[str, ...]


@dataclass(frozen=True)
class Rule:
    code: str
    title: str
    route: str
    sql_file: str
    sql: str
    description: str
    order: int
    absorbs: Absorption | None = None
    returns: str = "findings"
    describe_sql: str = ""  # PAYMENT_FINDINGS_SQL, for a rule that returns payments
    case_text: CaseText | None = None  # None: the fallback sentence of its route
    # the 承办部门 / 监督主体 of this rule's cases instead of its program's (None: the program's)
    department: str | None = None
    supervisor: str | None = None
    suppresses: Suppression | None = None

    @property
    def finding_sql(self) -> str:
        """The select yielding the finding columns: a payments rule's own select goes through the shared description."""
        if self.returns == "payments":
            return sql.describe_payments_sql(self.sql, self.describe_sql)
        return self.sql

    @property
    def parameters(self) -> tuple[str, ...]:
        return sql.sql_parameters(self.finding_sql)


@dataclass(frozen=True)
class Intermediate:
    """A shared TEMP table (or view) built once per run, before the rules.

    `materialize: view` suits a narrow projection of stored columns: each reader scans the
    warehouse's own columns as fast as it would scan a copy, and the copy is not written."""

    name: str
    sql_file: str
    sql: str
    description: str
    materialize: str = "table"

    @property
    def parameters(self) -> tuple[str, ...]:
        return sql.sql_parameters(self.sql)


@dataclass(frozen=True)
class RuleRegistry:
    rules: tuple[Rule, ...]
    intermediates: tuple[Intermediate, ...] = ()
    # route → the sentence of a case whose rule has no case_text of its own
    fallback_case_texts: tuple[tuple[str, CaseText], ...] = ()

    def get(self, code: str) -> Rule:
        for rule in self.rules:
            if rule.code == code:
                return rule
        raise KeyError(f"unknown rule {code!r}; known: {', '.join(self.codes)}")

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(rule.code for rule in self.rules)

    def in_order(self) -> tuple[Rule, ...]:
        return tuple(sorted(self.rules, key=lambda rule: rule.order))

    @property
    def group_rules(self) -> tuple[str, ...]:
        """Rules whose finding heads a group of absorbed member findings (their case is the group's)."""
        return tuple(rule.code for rule in self.rules if rule.absorbs is not None)

    def authorities(self, field: str) -> dict[str, str]:
        """Rule code → its own `department` or `supervisor` (field), for the rules that name one."""
        return {rule.code: value for rule in self.rules if (value := getattr(rule, field)) is not None}

    def fallback_case_text(self, route: str) -> CaseText:
        return dict(self.fallback_case_texts)[route]
