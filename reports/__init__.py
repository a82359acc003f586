"""Report layouts and templates as data (installed as ykt.reports)."""
