"""ingest/validate"""
