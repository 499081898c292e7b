"""Privacy controls: pseudonymization of personal fields at ingestion (keyed HMAC tokens,
reversible only through the encrypted vault), and the lake reading that retention and
data-subject export and deletion need.

* ``PrivacyConfig`` / ``load_privacy_config``: the ``[privacy]`` table;
* ``load_keys``: the per-home secret (``HOME/keys/privacy.key``) and the two keys derived;
* ``pseudonym``: value -> ``pn:`` token; ``Vault``: token -> value, AES-GCM sealed;
* ``Pseudonymizer``: applied by the hunt to every batch before it is stored or detected on;
* ``Matcher`` and ``lake``: finding a person's events; retention partitions.

The service that acts on findings and incidents too is ``garrison.correlate.privacy``
(the lowest stage that sees the lake, findings and incidents). docs/privacy.md explains
what is protected and what is not.
"""

from garrison.govern.privacy.config import PrivacyConfig, load_privacy_config, retention_days
from garrison.govern.privacy.keys import PrivacyKeyError, PrivacyKeys, load_keys, require_keys
from garrison.govern.privacy.match import Matcher, personal
from garrison.govern.privacy.pseudonymize import Pseudonymizer
from garrison.govern.privacy.token import is_token, pseudonym
from garrison.govern.privacy.vault import Vault, VaultError

__all__ = [
    "Matcher",
    "PrivacyConfig",
    "PrivacyKeyError",
    "PrivacyKeys",
    "Pseudonymizer",
    "Vault",
    "VaultError",
    "is_token",
    "load_keys",
    "load_privacy_config",
    "personal",
    "pseudonym",
    "require_keys",
    "retention_days",
]
