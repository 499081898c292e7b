"""Connectors: how an action reaches the world (webhook, SMTP, nftables, a command, a
ticket sink), each configured under ``[respond.connectors.NAME]`` and never hard-coded.

Every connector answers the same two calls (``base.Connector``): ``check`` is the dry-run
validation path (build, render and validate what would be sent, touch nothing), ``send``
does it. Each has an in-memory twin for unit tests (``memory``).
"""
