"""Thin interfaces (CLI, API, web): build a service, call it, map errors."""
