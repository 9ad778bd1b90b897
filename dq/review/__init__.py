"""Reviewing contracts: `dq diff` (what a change loosens) and `dq lint`."""
