"""The receiver gunzips with zlib instead of `tar -z`: it must refuse every stream GNU gzip would
not have turned into exactly the artifact's tar, and leave nothing behind when it does. Judged
against Python's gzip module and an os.walk reading of the tree (tests/integration/core/
test_receive.py), for any byte flipped, any cut and anything appended; the part is declared with
its mangled bytes' own sha256, so only the gzip and tree checks stand between it and a release."""

from __future__ import annotations

import gzip
import hashlib
import os
import zlib
from dataclasses import replace

from hypothesis import HealthCheck, given, settings, strategies as st

from deploy.errors import ArtifactError
from deploy.release.delta import Part, Shipments
from tests.integration.core.test_receive import BASE, build, ops, payload, upload  # noqa: F401 - ops: the fixture

RID = "20260101-000001-aaaaaaa"

mangles = st.one_of(
    st.tuples(st.just("flip"), st.integers(min_value=0), st.integers(min_value=1, max_value=255)),
    st.tuples(st.just("cut"), st.integers(min_value=1), st.just(0)),
    st.tuples(st.just("append"), st.binary(min_size=1, max_size=16), st.just(0)),
)


def mangled(data: bytes, how: tuple) -> bytes:
    kind, arg, flip = how
    if kind == "flip":
        raw = bytearray(data)
        raw[arg % len(raw)] ^= flip
        return bytes(raw)
    if kind == "cut":
        return data[: arg % len(data)]
    return data + arg


def whole(bad: bytes, data: bytes, kind: str) -> bool:
    """Is `bad` still exactly the artifact's gzip stream, by Python's gzip module (its own header
    parser and CRC check)? Nothing cut or appended is: GNU gzip too refuses a cut stream and
    warns (exit 2) on anything after the member; a flip is, when it only touched the header's
    mtime, flags or OS byte in a way gzip reads past."""
    if kind != "flip":
        return False
    try:
        return gzip.decompress(bad) == gzip.decompress(data)
    except (OSError, EOFError, zlib.error):
        return False


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(how=mangles)
def test_only_a_stream_that_gunzips_to_the_artifacts_tar_is_ever_released(ops, tmp_path_factory, how):  # noqa: F811
    tmp = tmp_path_factory.mktemp("gz")
    a1, sha1, m1 = build(tmp, "v1", BASE)
    s1 = Shipments(a1, sha1, m1)
    data = a1.read_bytes()
    bad = mangled(data, how)
    part = Part("release", hashlib.sha256(bad).hexdigest(), len(bad), data=bad)
    expected = whole(bad, data, how[0])
    try:
        ops.receive(replace(upload(RID, s1), shipment=replace(s1.full, part=part)))
    except ArtifactError:
        assert not expected, "refused a stream gzip reads as the artifact's"
        assert os.listdir(ops.layout.releases) == []
    else:
        assert expected, f"released a stream gzip does not read as the artifact's ({how[0]})"
        assert payload(ops.layout.release(RID)) == payload(str(tmp / "staging-v1"))
        ops.remove_releases([RID])
