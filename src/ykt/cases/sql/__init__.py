"""The case SQL as data: one statement per .sql file, in the rule-SQL style (read by ykt.cases.statements)."""
