"""The model registry: which model files Garrison may deserialise, and why.

- Shipped models (``garrison/detect/ml/models``) are bound by SHA-256 to the package's
  ``MANIFEST.json`` (``manifest``). The package holds no private key, so this is a digest
  binding, not a signature: their authenticity comes from how the package was installed.
- Models trained in a home are recorded in an append-only registry in ``HOME/state.db``,
  each entry signed with the home's Ed25519 key from ``HOME/keys`` (``store``, ``keys``).
- Loaders call ``gate.verify_model_file(path)`` before deserialising (``gate``);
  ``garrison models list|verify`` report every artefact and what does not hold (``check``).

Import from the submodules (this package imports nothing, so
``python -m garrison.govern.registry.manifest`` runs cleanly).
"""
