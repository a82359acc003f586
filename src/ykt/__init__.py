"""ykt-recon: one-card subsidy reconciliation."""
