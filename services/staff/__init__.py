"""Staff: the organisation (townships, departments, windows, people, roles, A/B pairs,
accounts behind tokens, calendar overrides) and staff discipline (DOMAIN S1–S8)."""
