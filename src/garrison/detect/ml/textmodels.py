"""The built-in text models, registered in ``TEXT_MODELS`` (one line per model).

Each adapter module is light (its model's numerical code is imported by ``parts()`` and
``train`` when they run), so importing this module costs no scientific library.
"""

from garrison.detect.ml.dga import textmodel as _dga  # noqa: F401
from garrison.detect.ml.email import textmodel as _email  # noqa: F401
from garrison.detect.ml.text import TEXT_MODELS as TEXT_MODELS
from garrison.detect.ml.text import TextModel
from garrison.detect.ml.url import textmodel as _url  # noqa: F401


def text_model(name: str) -> TextModel:
    """The text model ``name`` (a usage error naming the known ones otherwise)."""
    return TEXT_MODELS.get(name.lower())


def allowlist(name: str) -> list[str]:
    """The extra skops types an artefact called ``name`` may hold: its text model's
    allowlist, none for anything else (calibrations are JSON)."""
    return TEXT_MODELS.get(name).trusted_types() if name in TEXT_MODELS else []
