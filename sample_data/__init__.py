"""Deterministic sample data for the demo and tests."""
