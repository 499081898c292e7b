"""Static scanning of model files: ``garrison models scan`` and the registry's admission.

Pickle-based files (pickle, joblib, PyTorch zip and legacy, NumPy with objects) and skops
archives are read opcode by opcode and member by member, never loaded: every global a file
names must be on an allowlist of the constructors Garrison's model classes need
(``allowlist.yml``), every call must target one of them, and anything else is a finding
with its byte position, opcode and archive member. docs/model-scanning.md says why an
allowlist, what a scan does not catch, and how to extend it.
"""

from garrison.govern.scan.allowlist import Allowlist, default_allowlist
from garrison.govern.scan.files import (
    MODEL_SUFFIXES,
    missing,
    model_files,
    scan_bytes,
    scan_file,
    scan_paths,
)
from garrison.govern.scan.report import FileReport, Finding, Verdict

__all__ = [
    "MODEL_SUFFIXES",
    "Allowlist",
    "FileReport",
    "Finding",
    "Verdict",
    "default_allowlist",
    "missing",
    "model_files",
    "scan_bytes",
    "scan_file",
    "scan_paths",
]
