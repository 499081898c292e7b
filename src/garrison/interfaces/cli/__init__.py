"""The ``garrison`` command line."""
