"""The built-in text models, registered in ``TEXT_MODELS`` (one line per model).

Each adapter module is light (its model's numerical code is imported by ``parts()`` and
``train`` when they run), so importing this module costs no scientific library.
"""

# ruff: noqa: F401
from garrison.detect.ml.dga import textmodel as _dga
from garrison.detect.ml.email import textmodel as _email
from garrison.detect.ml.text import TEXT_MODELS as TEXT_MODELS
from garrison.detect.ml.url import textmodel as _url
