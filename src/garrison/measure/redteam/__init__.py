"""Red-teaming Garrison's own models with third-party attacks (``garrison models redteam``).

``contract`` says what an attack is and what it reports; ``attacks.yaml`` lists the attacks
(data, so extraction and poisoning attacks are added as entries); ``targets`` builds what an
attack runs against, per model; ``service`` runs a selection and renders the report.
"""
