"""Complaints (投诉), petitions (信访) and follow-ups of low ratings — DOMAIN P1–P6."""
