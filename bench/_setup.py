"""What every bench script needs before it imports the project: offline model loading, quiet
libraries, and the project on sys.path. ``from _setup import ROOT, SHARED`` (bench/ is on sys.path
when a script runs as ``python bench/NAME.py``)."""
from __future__ import annotations

import os
import sys
from pathlib import Path

for _name, _value in (("HF_HUB_OFFLINE", "1"), ("TRANSFORMERS_OFFLINE", "1"), ("TOKENIZERS_PARALLELISM", "false"),
                      ("ANONYMIZED_TELEMETRY", "False")):
    os.environ.setdefault(_name, _value)

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
