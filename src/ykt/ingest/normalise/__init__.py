"""ingest/normalise"""
