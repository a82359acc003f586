"""Helpers shared by the tests: fixture builders and hostile-input generators."""
