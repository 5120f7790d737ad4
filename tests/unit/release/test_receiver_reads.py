"""The receiver's own reads, judged against the standard library's: load_checked, the one read
that both proves manifest.json is the verified manifest and parses it (it was a hash, then a
second read to parse: a file swapped between the two would have been parsed unproven); and
gunzip, which replaced `tar -z`'s gzip process."""

from __future__ import annotations

import gzip
import hashlib
import json
import zlib

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from deploy.release.receiver import gunzip, load_checked
from deploy.release.tree_check import CHUNK, Refused

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


@settings(max_examples=100, deadline=None)
@given(data=st.binary(max_size=5000), cuts=st.lists(st.integers(min_value=0, max_value=6000), max_size=12),
       level=st.integers(min_value=0, max_value=9), repeat=st.integers(min_value=1, max_value=400))
def test_gunzip_yields_the_data_for_any_split_of_its_gzip_stream(data, cuts, level, repeat):
    """Against gzip.compress/decompress: however the stream is cut into blocks, the same bytes come
    out (in pieces of at most CHUNK, however far a block inflates) and the member ends exactly
    where the stream does."""
    stream = gzip.compress(data * repeat, compresslevel=level)
    bounds = sorted({0, len(stream), *(c % (len(stream) + 1) for c in cuts)})
    inflate, out = zlib.decompressobj(31), []
    for a, b in zip(bounds, bounds[1:]):
        out.extend(gunzip(inflate, stream[a:b]))
    out.append(inflate.flush())
    assert b"".join(out) == gzip.decompress(stream) and inflate.eof and all(len(o) <= CHUNK for o in out)
    with pytest.raises(Refused, match="data after the end"):
        list(gunzip(inflate, b"\0"))
