"""One registry of answerers (index/answerers.py) read by the settings, both command lines, the
chat's labels and the language-model factory (issue 12: the names were repeated in six places)."""
from __future__ import annotations

import pytest
from pydantic import ValidationError

from index.answerers import ANSWERER_NAMES, ANSWERERS, GENERATIVE
from index.settings import Settings


def test_the_settings_accept_exactly_the_registered_answerers():
    for name in ANSWERER_NAMES:
        assert Settings(answerer=name).answerer == name
    with pytest.raises(ValidationError):
        Settings(answerer="llamafile")


def test_both_command_lines_offer_the_registered_answerers():
    from assistant.cli import build_parser

    parser = build_parser()
    for command in (["ask", "q"], ["chat"], ["eval", "set.jsonl"]):
        for name in ANSWERER_NAMES:
            assert parser.parse_args([*command, "--answerer", name]).answerer == name
        with pytest.raises(SystemExit):
            parser.parse_args([*command, "--answerer", "llamafile"])


def test_the_chat_labels_every_answerer_and_the_factory_names_the_generative_ones():
    from assistant.errors import UsageError
    from assistant.llm import make_chat_model
    from ui.state import ANSWERER_LABELS

    assert ANSWERER_LABELS == {name: kind.label for name, kind in ANSWERERS.items()}
    assert "extractive" not in GENERATIVE and set(GENERATIVE) == {"gguf", "ollama", "openai"}
    with pytest.raises(UsageError, match=", ".join(GENERATIVE)):
        make_chat_model(Settings(), "extractive")
