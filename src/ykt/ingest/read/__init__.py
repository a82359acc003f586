"""ingest/read"""
