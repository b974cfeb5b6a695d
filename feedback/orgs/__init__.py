"""Organisations (tenants), their API keys and the audit log."""
