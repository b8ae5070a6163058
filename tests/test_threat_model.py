"""docs/threat-model.md links each mitigation to its test: every link must lead to a
test that exists."""

from __future__ import annotations

import re

from bot.settings import PROJECT_ROOT


def test_every_test_named_in_the_threat_model_exists() -> None:
    text = (PROJECT_ROOT / "docs" / "threat-model.md").read_text(encoding="utf-8")
    references = set(re.findall(r"`(tests/[^`]+)`", text))
    assert len(references) > 30
    for reference in references:
        path, _, test = reference.partition("::")
        file = PROJECT_ROOT / path
        assert file.exists(), reference
        if test:
            assert re.search(rf"def {re.escape(test)}\b", file.read_text("utf-8")), reference
