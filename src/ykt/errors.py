"""The typed error hierarchy. The CLI is the single place that catches these.

Every message says what happened, where (file, sheet, row, column), what was
expected and how to fix it. Messages meant for clerks are in Chinese.
"""

from __future__ import annotations

from dataclasses import dataclass


class YktError(Exception):
    """Base class: anything we raise on purpose. Carries its process exit code."""

    exit_code = 1

    def __init__(self, message: str, *, where: str | None = None, hint: str | None = None):
        self.message = message
        self.where = where
        self.hint = hint
        super().__init__(self.render())

    def render(self) -> str:
        parts = [self.message]
        if self.where:
            parts.append(f"位置：{self.where}")
        if self.hint:
            parts.append(f"处理办法：{self.hint}")
        return "\n  ".join(parts)


class UsageError(YktError):
    """Bad command-line arguments."""

    exit_code = 2


@dataclass(frozen=True)
class ConfigProblem:
    file: str
    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.file} [{self.key}]: {self.message}"


class ConfigError(YktError):
    """Configuration (programs.yaml, columns.yaml, rules) is invalid. Lists every problem at once."""

    exit_code = 2

    def __init__(self, problems: list[ConfigProblem]):
        self.problems = list(problems)
        body = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"配置有 {len(self.problems)} 处错误：\n{body}")


class InputFileError(YktError):
    """A whole input file cannot be used. It is recorded as rejected; the run goes on."""

    exit_code = 1

    def __init__(self, reason_code: str, message: str, *, where: str | None = None, hint: str | None = None):
        self.reason_code = reason_code
        super().__init__(message, where=where, hint=hint)


class RuleExecutionError(YktError):
    """A SQL statement failed; carries the rule (or step) name and the SQL text."""

    exit_code = 1

    def __init__(self, name: str, sql: str, cause: Exception):
        self.name = name
        self.sql = sql
        self.cause = cause
        super().__init__(f"SQL step '{name}' failed: {cause}\n--- SQL ---\n{sql}")


class WarehouseError(YktError):
    """The warehouse cannot be opened as it is (locked by another run, damaged, not writable, missing).
    Nothing was done: it is a precondition of every command that reads or writes it."""

    exit_code = 2


class DiskSpaceError(YktError):
    """The disk cannot hold what the night must write (the archive copies of the inbox): nothing half-written
    is left behind, and a person must free space before the night can run."""

    exit_code = 2


class DeliveryError(YktError):
    """Cases stayed undelivered (the platform unreachable, or it refused some); they stay in the outbox.
    The run itself completed, so this is "ran, needs attention"."""

    exit_code = 3
