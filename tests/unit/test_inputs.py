"""What a program declares: the resource's one input model, its checks and its comparisons."""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pulumi.output import Unknown

from pulumi_exo_distributor._inputs import (
    CREATE_ONLY,
    UNKNOWN,
    BillingAddressInput,
    OrganizationArgs,
    create_only_changes,
    fold,
    has_unknown,
    remote_mismatches,
    validate,
)
from pulumi_exo_distributor._limits import ADDRESS_LIMITS, ORGANIZATION_LIMITS
from pulumi_exo_distributor.core.effective import complete

ADDRESS: dict[str, Any] = {
    "name": "Acme SA",
    "country": "CH",
    "city": "Lausanne",
    "postal_code": "1003",
    "street_name": "Rue du Lac",
}
#: Every text input but the e-mail and the country, which have rules of their own.
PLAIN_TEXT = ["display_name", "client_id", "default_client_id"]
ADDRESS_TEXT = [f for f in ADDRESS_LIMITS if f != "country"]
ALL_TEXT = [*PLAIN_TEXT, "owner_email", *(f"billing_address.{f}" for f in ADDRESS_LIMITS)]


def props(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "display_name": "Acme SA",
        "owner_email": "ops@acme.example",
        "billing_address": dict(ADDRESS),
    }
    return {**base, **overrides}


def with_field(field: str, value: object) -> dict[str, Any]:
    """Valid inputs with ``field`` (``billing_address.x`` for an address field) set to ``value``."""
    if field.startswith("billing_address."):
        return props(billing_address={**ADDRESS, field.split(".", 1)[1]: value})
    return props(**{field: value})


def value_of(inputs: dict[str, Any], field: str) -> object:
    if field.startswith("billing_address."):
        return inputs["billing_address"][field.split(".", 1)[1]]
    return inputs[field]


def limit_of(field: str) -> int:
    name = field.removeprefix("billing_address.")
    if field.startswith("billing_address."):
        return ADDRESS_LIMITS[name].max_length
    return ORGANIZATION_LIMITS.get(name, ORGANIZATION_LIMITS["client_id"]).max_length


def failed_fields(problems: list[tuple[str, str]]) -> list[str]:
    return [field for field, _ in problems]


def refused(field: str, value: object) -> str:
    """The reason ``field`` is refused with ``value``; fails unless it is the only failure."""
    _, problems = validate(with_field(field, value))
    assert failed_fields(problems) == [field], problems
    reason = problems[0][1]
    assert field in reason
    return reason


# -- what is accepted, and how it is normalised ---------------------------------------------


def test_valid_inputs_pass_unchanged() -> None:
    inputs, problems = validate(props(client_id="ACME-1", status="suspended", deletion_policy="retain"))
    assert problems == []
    assert inputs == {
        **props(client_id="ACME-1", status="suspended", deletion_policy="retain"),
        "billing_address": ADDRESS,
    }


def test_engine_keys_and_unset_values_are_left_out() -> None:
    inputs, problems = validate(
        props(__provider="opaque", client_id=None, status=None, adopt_id=None, allow_replacement=None)
    )
    assert problems == []
    assert set(inputs) == {"display_name", "owner_email", "billing_address"}


@pytest.mark.parametrize("field", ALL_TEXT)
def test_each_text_input_is_trimmed_and_refuses_what_is_not_plain_text(field: str) -> None:
    text = {"owner_email": "ops@acme.example", "billing_address.country": "CH"}.get(field, "Acme")
    inputs, problems = validate(with_field(field, f" \t{text}\n "))
    assert problems == []
    assert value_of(inputs, field) == text
    assert "int" in refused(field, 42)
    assert "bytes" in refused(field, text.encode())
    assert "blank" in refused(field, " \t ")
    assert "U+0007" in refused(field, f"{text[0]}\x07{text[1:]}")
    assert "U+200B" in refused(field, f"{text[0]}\u200b{text[1:]}")


@pytest.mark.parametrize("field", [*PLAIN_TEXT, *(f"billing_address.{f}" for f in ADDRESS_TEXT)])
def test_the_longest_value_is_accepted_and_one_more_character_refused(field: str) -> None:
    limit = limit_of(field)
    inputs, problems = validate(with_field(field, "x" * limit))
    assert problems == []
    assert value_of(inputs, field) == "x" * limit
    assert str(limit) in refused(field, "x" * (limit + 1))


@pytest.mark.parametrize("field", ["display_name", "billing_address.street_name"])
def test_the_limit_counts_the_trimmed_text(field: str) -> None:
    inputs, problems = validate(with_field(field, "  " + "x" * limit_of(field) + "  "))
    assert problems == []
    assert value_of(inputs, field) == "x" * limit_of(field)


def test_the_longest_owner_email_is_accepted_and_one_more_character_refused() -> None:
    limit = ORGANIZATION_LIMITS["owner_email"].max_length
    local = "a" * 64
    at_limit = f"{local}@{'b' * (limit - len(local) - 4)}.ch"
    assert len(at_limit) == limit
    inputs, problems = validate(props(owner_email=at_limit))
    assert problems == []
    assert inputs["owner_email"] == at_limit
    assert str(limit) in refused("owner_email", at_limit.replace("@", "@b"))


def test_the_country_is_trimmed_and_upper_cased() -> None:
    inputs, problems = validate(with_field("billing_address.country", " fr "))
    assert problems == []
    assert inputs["billing_address"]["country"] == "FR"


@pytest.mark.parametrize("country", ["C", "CHE", "XX"])
def test_a_country_that_is_not_iso_3166_alpha_2_is_refused(country: str) -> None:
    refused("billing_address.country", country)


def test_the_owner_email_is_checked_but_kept_as_written() -> None:
    inputs, problems = validate(props(owner_email="Ops@ACME.Example"))
    assert problems == []
    assert inputs["owner_email"] == "Ops@ACME.Example"


@pytest.mark.parametrize("email", ["ops", "ops acme@acme.example", "Ops <ops@acme.example>"])
def test_what_is_not_an_email_address_is_refused(email: str) -> None:
    refused("owner_email", email)


def test_the_optional_address_fields_may_be_left_out_or_given() -> None:
    inputs, problems = validate(props(billing_address={**ADDRESS, "building_number": None}))
    assert problems == []
    assert "building_number" not in inputs["billing_address"]
    full = {**ADDRESS, "building_number": "12b", "address": "Building C, floor 3"}
    inputs, problems = validate(props(billing_address=full))
    assert problems == []
    assert inputs["billing_address"] == full


# -- what is refused ------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["display_name", "owner_email", "billing_address"])
def test_each_required_input_is_required(field: str) -> None:
    _, problems = validate({k: v for k, v in props().items() if k != field})
    assert failed_fields(problems) == [field]
    assert "required" in problems[0][1]


@pytest.mark.parametrize("field", ["name", "country", "city", "postal_code", "street_name"])
def test_each_required_address_field_is_required(field: str) -> None:
    _, problems = validate(props(billing_address={k: v for k, v in ADDRESS.items() if k != field}))
    assert failed_fields(problems) == [f"billing_address.{field}"]
    assert "required" in problems[0][1]


@pytest.mark.parametrize(
    "character",
    ["\x00", "\r\n", "\x7f", "\u2028", "\u00ad", "\ufeff", "\u202e"],
    ids=["nul", "crlf", "del", "line-separator", "soft-hyphen", "bom", "bidi-override"],
)
def test_control_and_invisible_characters_are_refused_inside_the_text(character: str) -> None:
    assert f"U+{ord(character[-1]):04X}" in refused("billing_address.city", f"Laus{character}anne")
    refused("display_name", f"Acme{character}SA")
    refused("client_id", f"ACME{character}1")


def test_the_joiners_that_scripts_need_are_accepted() -> None:
    city = "\u0915\u094d\u200d\u0937 \u0645\u200c\u06cc"
    inputs, problems = validate(with_field("billing_address.city", city))
    assert problems == []
    assert inputs["billing_address"]["city"] == city


def test_an_unknown_input_is_refused() -> None:
    _, problems = validate(props(colour="blue"))
    assert failed_fields(problems) == ["colour"]


@pytest.mark.parametrize(
    ("key", "meant"),
    [("postal-code", "postal_code"), ("street-name", "street_name"), ("Building-Number", "building_number")],
)
def test_a_kebab_case_address_key_is_refused_with_its_snake_case_name(key: str, meant: str) -> None:
    _, problems = validate(props(billing_address={**ADDRESS, key: "x"}))
    assert failed_fields(problems) == [f"billing_address.{key}"]
    assert f"did you mean {meant}?" in problems[0][1]


def test_an_unknown_address_key_is_refused_with_the_list_of_fields() -> None:
    _, problems = validate(props(billing_address={**ADDRESS, "zip": "1003"}))
    assert failed_fields(problems) == ["billing_address.zip"]
    assert all(field in problems[0][1] for field in ADDRESS_LIMITS)


@pytest.mark.parametrize("address", ["Rue du Lac 1, 1003 Lausanne", ["Rue du Lac"]])
def test_a_billing_address_that_is_not_a_mapping_is_refused(address: object) -> None:
    _, problems = validate(props(billing_address=address))
    assert failed_fields(problems) == ["billing_address"]


@pytest.mark.parametrize(
    ("field", "accepted", "others"),
    [
        ("status", ["active", "suspended"], ["terminated", "ACTIVE", " active", 1]),
        ("deletion_policy", ["purge", "terminate", "retain"], ["delete", "Purge", ""]),
        ("allow_replacement", [True, False], ["yes", "true", 1, 0]),
    ],
)
def test_a_choice_takes_its_values_and_only_those(
    field: str, accepted: list[object], others: list[object]
) -> None:
    for value in accepted:
        inputs, problems = validate(props(**{field: value}))
        assert (inputs[field], problems) == (value, []), value
    for value in others:
        refused(field, value)


@pytest.mark.parametrize(
    "written",
    [str(uuid.UUID(int=7)), str(uuid.UUID(int=7)).upper(), uuid.UUID(int=7)],
    ids=["lower", "upper", "uuid"],
)
def test_adopt_id_is_recorded_as_a_canonical_uuid(written: object) -> None:
    inputs, problems = validate(props(adopt_id=written))
    assert problems == []
    assert inputs["adopt_id"] == str(uuid.UUID(int=7))


@pytest.mark.parametrize("value", ["", "not-a-uuid", str(uuid.UUID(int=7))[:-1], "g" * 32], ids=repr)
def test_an_adopt_id_that_is_not_a_uuid_is_refused(value: object) -> None:
    assert "UUID" in refused("adopt_id", value)


def test_every_bad_field_is_reported_at_once() -> None:
    _, problems = validate(
        props(display_name="", status="gone", colour="x", billing_address={**ADDRESS, "city": 1})
    )
    assert sorted(failed_fields(problems)) == ["billing_address.city", "colour", "display_name", "status"]


# -- values the engine does not know yet ----------------------------------------------------


@pytest.mark.parametrize(
    "field", ["owner_email", "billing_address", "status", "deletion_policy", "adopt_id", "allow_replacement"]
)
def test_an_unknown_value_passes_unchecked_as_the_engines_sentinel(field: str) -> None:
    inputs, problems = validate(props(**{field: Unknown()}))  # type: ignore[no-untyped-call]
    assert problems == []
    assert inputs[field] == UNKNOWN


def test_an_unknown_address_field_passes_while_the_others_are_checked() -> None:
    unknown = Unknown()  # type: ignore[no-untyped-call]
    inputs, problems = validate(props(billing_address={**ADDRESS, "city": unknown, "postal_code": ""}))
    assert failed_fields(problems) == ["billing_address.postal_code"]
    assert inputs["billing_address"]["city"] == UNKNOWN


def test_has_unknown_looks_into_mappings() -> None:
    assert has_unknown(Unknown())  # type: ignore[no-untyped-call]
    assert has_unknown(UNKNOWN)
    assert has_unknown({"a": {"b": UNKNOWN}})
    assert not has_unknown({"a": {"b": "x"}})
    assert not has_unknown(f"{UNKNOWN} ")
    assert not has_unknown(None)


def test_the_sentinel_is_the_engines_and_the_model_imports_no_pulumi() -> None:
    import subprocess
    import sys

    from pulumi.runtime.rpc import UNKNOWN as ENGINES

    assert UNKNOWN == ENGINES

    class Unknown:  # same name, another module: not the SDK's
        pass

    assert not has_unknown(Unknown())
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, pulumi_exo_distributor._inputs; print('pulumi' in sys.modules)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert loaded.stdout.strip() == "False"


def test_fold_ignores_case_and_runs_of_white_space_only() -> None:
    assert fold("  Rue  du\tLAC ") == fold("rue du lac")
    assert fold("Rue du Lac") != fold("Rue du Lac 1")
    assert fold(None) is None


# -- create-only inputs ---------------------------------------------------------------------

OLD: dict[str, Any] = {
    "display_name": "Acme SA",
    "owner_email": "ops@acme.example",
    "billing_address": dict(ADDRESS),
    "client_id": "ACME-1",
    "status": "active",
    "deletion_policy": "purge",
    "allow_replacement": False,
}


@pytest.mark.parametrize(
    ("field", "new"),
    [
        ("display_name", "Acme AG"),
        ("billing_address", {**ADDRESS, "city": "Geneva"}),
        ("billing_address", {**ADDRESS, "building_number": "1"}),
        ("client_id", "ACME-2"),
        ("client_id", "acme-1"),
    ],
    ids=["display_name", "address-field", "address-added-field", "client_id", "client_id-case"],
)
def test_a_create_only_change_is_detected(field: str, new: object) -> None:
    assert field in CREATE_ONLY
    assert create_only_changes(OLD, {**OLD, field: new}) == [(field, OLD[field], new)]


@pytest.mark.parametrize(
    ("field", "new"),
    [
        ("owner_email", "billing@acme.example"),
        ("status", "suspended"),
        ("deletion_policy", "retain"),
        ("allow_replacement", True),
        ("adopt_id", str(uuid.UUID(int=7))),
    ],
)
def test_other_changes_are_not_create_only(field: str, new: object) -> None:
    assert create_only_changes(OLD, {**OLD, field: new}) == []


def test_a_client_id_left_out_keeps_the_recorded_one() -> None:
    news = {k: v for k, v in OLD.items() if k != "client_id"}
    assert create_only_changes(OLD, news) == []


@pytest.mark.parametrize(
    "news",
    [
        {**OLD, "display_name": UNKNOWN},
        {**OLD, "billing_address": UNKNOWN},
        {**OLD, "billing_address": {**ADDRESS, "city": UNKNOWN}},
        {**OLD, "client_id": UNKNOWN},
    ],
    ids=["display_name", "address", "address-field", "client_id"],
)
def test_an_unknown_new_value_is_not_a_change_yet(news: dict[str, Any]) -> None:
    assert create_only_changes(OLD, news) == []


def test_a_state_of_an_earlier_version_compares_by_todays_rules() -> None:
    legacy = {
        **OLD,
        "display_name": " Acme SA ",
        "billing_address": {
            "name": "Acme SA",
            "country": "CH",
            "city": "Lausanne ",
            "postal-code": "1003",
            "street-name": "Rue du Lac",
            "building-number": None,
        },
    }
    assert create_only_changes(legacy, OLD) == []


# -- an organization found remotely against a declaration -----------------------------------


def test_a_remote_organization_as_declared_has_no_mismatch() -> None:
    remote = {**ADDRESS, "name": "ACME  sa", "city": "LAUSANNE", "address": "added by the server"}
    assert remote_mismatches(ADDRESS, "ACME-1", remote, "ACME-1") == []


def test_each_remote_difference_is_named() -> None:
    remote = {**ADDRESS, "city": "Geneva", "postal_code": "1201"}
    found = remote_mismatches(ADDRESS, None, remote, "ACME-1")
    assert len(found) == 2
    assert any("billing_address.city" in text and "Geneva" in text for text in found)
    assert any("billing_address.postal_code" in text and "1201" in text for text in found)


def test_a_remote_organization_without_an_address_differs_in_every_declared_field() -> None:
    found = remote_mismatches(ADDRESS, None, None, None)
    assert len(found) == len(ADDRESS)


def test_a_client_id_is_compared_exactly() -> None:
    found = remote_mismatches(ADDRESS, "ACME-1", ADDRESS, "acme-1")
    assert len(found) == 1
    assert "client_id" in found[0]
    assert remote_mismatches(ADDRESS, "ACME-1", ADDRESS, None) != []


# -- the checked model ----------------------------------------------------------------------


def test_organization_args_apply_the_defaults() -> None:
    args = OrganizationArgs.from_inputs(validate(props())[0])
    assert args.status == "active"
    assert args.allow_replacement is False
    assert (args.client_id, args.adopt_id, args.default_client_id) == (None,) * 3
    assert args.deletion_policy == "purge"  # static: a resource that creates its organization purges it
    adopting = OrganizationArgs.from_inputs(validate(props(adopt_id=str(uuid.UUID(int=1))))[0])
    assert adopting.deletion_policy == "retain"  # adopting is an explicit act, undone on removal
    assert args.billing_address == BillingAddressInput(**ADDRESS)


def test_organization_args_keep_what_was_declared() -> None:
    declared = props(
        client_id="ACME-1",
        status="suspended",
        deletion_policy="terminate",
        allow_replacement=True,
        default_client_id="pulumi:p/s/acme",
        billing_address={**ADDRESS, "building_number": "1"},
    )
    args = OrganizationArgs.from_inputs(validate(declared)[0])
    assert (args.client_id, args.status, args.deletion_policy) == ("ACME-1", "suspended", "terminate")
    assert (args.allow_replacement, args.default_client_id) == (True, "pulumi:p/s/acme")
    assert args.billing_address.to_dict() == {**ADDRESS, "building_number": "1"}
    with pytest.raises(dataclasses.FrozenInstanceError):
        args.status = "active"  # type: ignore[misc]


# -- checked inputs pass again unchanged (a diff takes check's own output without validating it) --

_TEXT = st.text(st.sampled_from(" Ab-é1.'"), min_size=1, max_size=12)
_PADDED = st.builds(lambda pad, text: f"{pad}{text}{pad}", st.sampled_from(["", " ", "  "]), _TEXT)


@settings(max_examples=300, deadline=None)
@given(
    display_name=_PADDED,
    email=st.sampled_from(["ops@acme.example", " Ops@ACME.example ", "ops+x@sub.acme.example"]),
    country=st.sampled_from(["CH", " ch", "fr ", "De"]),
    address=st.fixed_dictionaries(
        {"name": _PADDED, "city": _PADDED, "postal_code": _PADDED, "street_name": _PADDED},
        optional={"building_number": _PADDED, "address": _PADDED},
    ),
    extra=st.fixed_dictionaries(
        {},
        optional={
            "client_id": _PADDED,
            "status": st.sampled_from(["active", "suspended"]),
            "deletion_policy": st.sampled_from(["purge", "terminate", "retain"]),
            "adopt_id": st.uuids().flatmap(
                lambda u: st.sampled_from([str(u), str(u).upper(), u.hex, f"{{{u}}}"])
            ),
            "allow_replacement": st.booleans(),
            "default_client_id": _PADDED,
        },
    ),
    unknown=st.sampled_from([None, "display_name", "client_id", "billing_address.city"]),
)
def test_checked_inputs_validate_again_to_themselves(
    display_name: str,
    email: str,
    country: str,
    address: dict[str, str],
    extra: dict[str, Any],
    unknown: str | None,
) -> None:
    program = {
        "display_name": display_name,
        "owner_email": email,
        "billing_address": {**address, "country": country},
        **extra,
    }
    if unknown is not None:
        program = {**with_field(unknown, UNKNOWN), **{k: v for k, v in program.items() if k != unknown}}
        if unknown.startswith("billing_address."):
            program["billing_address"] = {**program["billing_address"], unknown.split(".")[1]: UNKNOWN}
    checked, problems = complete({}, program)
    if problems:
        return
    assert validate(checked) == (checked, [])
    assert complete({}, checked, validated=True) == complete({}, checked)


def test_a_recorded_owner_email_is_checked_for_length_and_characters_only() -> None:
    inputs, problems = validate(props(owner_email="ops@acme"), recorded_email="ops@acme")
    assert problems == [] and inputs["owner_email"] == "ops@acme"
    assert failed_fields(validate(props(owner_email="ops@acme"), recorded_email="ops@other")[1]) == [
        "owner_email"
    ]
    assert failed_fields(validate(props(owner_email="ops@\x00acme"), recorded_email="ops@\x00acme")[1]) == [
        "owner_email"
    ]


def test_printable_text_holds_no_forbidden_character() -> None:
    # The checks look at each character only in text that is not printable.
    import sys
    import unicodedata

    from pulumi_exo_distributor._inputs import _FORBIDDEN_CATEGORIES

    assert not [
        hex(code)
        for code in range(sys.maxunicode + 1)
        if chr(code).isprintable() and unicodedata.category(chr(code)) in _FORBIDDEN_CATEGORIES
    ]
