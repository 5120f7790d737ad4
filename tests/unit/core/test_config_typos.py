"""A config key typo names the nearest valid key of that very table (not of another one)."""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings, strategies as st

from deploy.config import EnvConfig, HostConfig, ProjectConfig, RolloutConfig, ShipyardConfig, parse
from deploy.config_base import nearest_key
from deploy.errors import ConfigError

TABLES = [  # (where in shipyard.toml, the model that table is)
    (("project",), ProjectConfig),
    (("env", "prod"), EnvConfig),
    (("env", "prod", "rollout"), RolloutConfig),
    (("env", "prod", "hosts", 0), HostConfig),
]


def edit_distance(a: str, b: str) -> int:
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]


@st.composite
def typo(draw):
    where, model = draw(st.sampled_from(TABLES))
    key = draw(st.sampled_from(sorted(k for k in model.model_fields if len(k) >= 5)))
    i = draw(st.integers(0, len(key) - 2))
    kind = draw(st.sampled_from(["drop", "swap", "double"]))
    bad = {"drop": key[:i] + key[i + 1:], "swap": key[:i] + key[i + 1] + key[i] + key[i + 2:],
           "double": key[:i] + key[i] + key[i:]}[kind]
    return where, model, key, bad


@settings(max_examples=300, deadline=None)
@given(typo())
def test_a_one_letter_slip_suggests_a_key_of_the_same_table_at_most_two_edits_away(case):
    where, model, key, bad = case
    assume(bad not in model.model_fields)
    near = nearest_key(ShipyardConfig, (*where, bad))
    assert near in model.model_fields and edit_distance(bad, near) <= 2
    closest = min(edit_distance(bad, k) for k in model.model_fields)
    assert edit_distance(bad, near) <= closest + 1


@pytest.mark.parametrize("toml, message", [
    ("[env.local]\nkeep_release = 3\n", "env.local.keep_release: unknown key (did you mean 'keep_releases'?)"),
    ('[env.p]\nhosts = [{ name = "a", transprot = "ssh" }]\n', "env.p.hosts[0].transprot: unknown key (did you mean 'transport'?)"),
    ("[projekt]\n", "projekt: unknown key (did you mean 'project'?)"),
    ("[env.local]\nrollout = { bacth = 1 }\n", "env.local.rollout.bacth: unknown key (did you mean 'batch'?)"),
    ("[env.local]\nzzzzz = 1\n", "env.local.zzzzz: unknown key"),
])
def test_the_message_names_file_key_and_suggestion(toml, message):
    with pytest.raises(ConfigError) as e:
        parse(toml, "shipyard.toml")
    assert str(e.value) == f"shipyard.toml: {message}"
