"""The REST API (``garrison serve``): thin routes over the service layer, one module per
feature under ``routes``; ``create_app(config)`` builds it. See docs/api.md."""
