"""Lending of convenience items (便民服务) — DOMAIN L1–L6, seed 000."""
