"""The model registry: which model files Garrison may deserialise, and why.

- Shipped models (``garrison/detect/ml/models``) are bound by SHA-256 to the package's
  ``MANIFEST.json`` (``manifest``), itself signed at release time with the release key
  whose public half ships in the package (``release``).
- Models trained in a home are recorded in an append-only registry in ``HOME/state.db``,
  each entry signed with the home's Ed25519 key from ``HOME/keys`` (``store``, ``keys``).
- Home models move shadow -> canary -> production through signed, chained stage moves;
  detectors load the production version, and a downgrade is refused (``stages``).
- Loaders call ``gate.verify_model_file(path)`` before deserialising (``gate``);
  ``garrison models list|verify`` report every artefact and what does not hold (``check``).

Import from the submodules (this package imports nothing, so
``python -m garrison.govern.registry.manifest`` runs cleanly).
"""
