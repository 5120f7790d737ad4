"""Pure pieces of the PostgreSQL path: IN-list renderings that read back the same, aclitem
parsing into GRANT/REVOKE, identifier and literal quoting."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from deploy.db.postgres.model import literal, q, qn
from deploy.db.postgres.privileges import acl_statements, parse_acl
from deploy.db.postgres.stable import stable


def test_varchar_in_list_is_emitted_as_an_in_list_again() -> None:
    rendered = "CHECK (((status)::text = ANY ((ARRAY['new'::character varying, 'o''k'::character varying])::text[])))"
    assert stable(rendered) == "CHECK (((status) IN ('new'::character varying, 'o''k'::character varying)))"
    negated = "((x)::text <> ALL ((ARRAY['a]'::character varying])::text[]))"
    assert stable(negated) == "((x) NOT IN ('a]'::character varying))"


def test_other_renderings_are_left_alone() -> None:
    for text in ["CHECK ((n = ANY (ARRAY[1, 2])))", "(x || 'a')::text = ANY ((ARRAY['b'::character varying])::text[])",
                 "CHECK ((a > 0))", "lower(name)"]:
        assert stable(text) == text


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30))
def test_quoting_round_trips_any_name(name: str) -> None:
    quoted = q(name)
    assert quoted.startswith('"') and quoted.endswith('"') and quoted[1:-1].replace('""', '"') == name
    assert literal(name)[1:-1].replace("''", "'") == name
    assert qn("a.b", name) == f'"a.b".{quoted}'  # a dot is part of a name, never a separator


def test_acl_items_become_grants_and_revokes() -> None:
    assert parse_acl(["alice=r*w/postgres", "=r/postgres"]) == {
        "alice": (frozenset({"SELECT", "UPDATE"}), frozenset({"SELECT"})), "PUBLIC": (frozenset({"SELECT"}), frozenset())}
    out = acl_statements('TABLE "public"."t"', ["bob=r/postgres"], ["bob=arw/postgres", "carol=r*/postgres"])
    assert out == ['REVOKE ALL ON TABLE "public"."t" FROM bob', 'GRANT INSERT, SELECT, UPDATE ON TABLE "public"."t" TO bob',
                   'GRANT SELECT ON TABLE "public"."t" TO carol WITH GRANT OPTION']
    cols = acl_statements('COLUMN "c" ON TABLE "public"."t"', None, ["dave=r/postgres"])
    assert cols == ['GRANT SELECT ("c") ON TABLE "public"."t" TO dave']
