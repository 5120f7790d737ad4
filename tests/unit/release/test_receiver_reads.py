"""receiver.load_checked: the one read that both proves manifest.json is the verified manifest and
parses it (it was a hash, then a second read to parse: a file swapped between the two would have
been parsed unproven). Judged against hashlib and json here."""

from __future__ import annotations

import hashlib
import json

from hypothesis import HealthCheck, given, settings, strategies as st

from deploy.release.receiver import load_checked

documents = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                         lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4),
                         max_leaves=12)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(doc=documents, tamper=st.none() | st.tuples(st.integers(min_value=0), st.integers(min_value=1, max_value=255)))
def test_the_document_is_returned_exactly_when_its_bytes_are_the_expected_ones(tmp_path, doc, tamper):
    expected = (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode()
    written = bytearray(expected)
    if tamper is not None:
        at, flip = tamper
        written[at % len(written)] ^= flip
    path = tmp_path / "manifest.json"
    path.write_bytes(bytes(written))
    got = load_checked(str(path), hashlib.sha256(expected).hexdigest())
    if bytes(written) == expected:
        assert got == json.loads(expected)
    else:
        assert got is None


def test_a_missing_or_unreadable_manifest_is_not_the_expected_one(tmp_path):
    assert load_checked(str(tmp_path / "absent.json"), hashlib.sha256(b"{}").hexdigest()) is None
    assert load_checked(str(tmp_path), hashlib.sha256(b"").hexdigest()) is None  # a directory
