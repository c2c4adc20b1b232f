"""Each rule's label is what a VM's line in the console says: a few words, one per rule."""

from __future__ import annotations

from collections import Counter

from asr_preflight.rules import REGISTRY


def test_every_rule_has_a_short_label_of_its_own():
    labels = {rule.id: rule.label for rule in REGISTRY.values()}
    assert all(0 < len(label) <= 28 for label in labels.values()), labels
    twice = [label for label, n in Counter(labels.values()).items() if n > 1]
    assert twice == []  # a VM's line could not tell the rules apart
