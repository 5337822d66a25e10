"""The HTTP gateway: authentication, validation, OpenAPI, error mapping, RPC to services.
It keeps no database of its own (ARCHITECTURE "Who owns what")."""
