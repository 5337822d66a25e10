"""Notices (DOMAIN N1): every remind, alert and tell reaches named people — inboxes, acknowledgement, escalation, outside channels."""
