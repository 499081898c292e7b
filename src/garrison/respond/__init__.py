"""The respond stage: playbooks that act on findings and incidents (issue 10).

Playbooks are YAML data (``playbook``), checked against the declared actions (``actions``)
before anything runs. Executors, approvals and connectors build on this.
"""
