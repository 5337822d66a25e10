"""Intake (受理): catalogue, inquiries, applications, one-time notices, receipts (DOMAIN I1–I5, C12)."""
