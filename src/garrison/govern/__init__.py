"""Governance used by every stage: audit log, model registry, serving guard, authz.

Other stages reach govern only through small services and decorators (for example
``garrison.govern.audit.audited`` and an ``AuditLog`` passed in), never the reverse.
"""
