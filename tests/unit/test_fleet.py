"""The customers file: read as written, checked by the resource's rules, every problem located."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pulumi
import pytest

from pulumi_exo_distributor import Customer, CustomerFileError, ExoDistributorError, load_customers

GOOD = """\
# Edited by sales.
customers:
  acme:
    display_name: Acme SA
    owner_email: ops@acme.example
    billing_address:
      name: Acme SA
      country: ch
      city: Lausanne
      postal_code: 01003
      street_name: Rue de Bourg
      building_number: 12
    client_id: acme-001
  nordic:
    display_name: Nordic AS
    owner_email: it@nordic.example
    billing_address: {name: Nordic AS, country: NO, city: Oslo, postal_code: "0150",
                      street_name: Karl Johans gate}
    status: suspended
    deletion_policy: retain
    protect: false
    client_id:
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "customers.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems(tmp_path: Path, text: str) -> list[str]:
    path = write(tmp_path, text)
    with pytest.raises(CustomerFileError) as exc:
        load_customers(path)
    assert str(exc.value).startswith(f"{path}: {len(exc.value.problems)} problem")
    return [problem.replace(str(path), "customers.yaml") for problem in exc.value.problems]


def test_a_good_file_gives_the_customers_in_order(tmp_path: Path) -> None:
    acme, nordic = load_customers(write(tmp_path, GOOD))
    assert acme == Customer(
        "acme",
        {
            "display_name": "Acme SA",
            "owner_email": "ops@acme.example",
            # Text as written: no octal 01003, no integer 12.
            "billing_address": {
                "name": "Acme SA",
                "country": "ch",
                "city": "Lausanne",
                "postal_code": "01003",
                "street_name": "Rue de Bourg",
                "building_number": "12",
            },
            "client_id": "acme-001",
        },
        protect=True,  # on unless the file says otherwise
    )
    assert acme.source.endswith("customers.yaml:3")  # the line of its key
    assert nordic.inputs["billing_address"]["country"] == "NO"  # not YAML 1.1's false
    assert nordic.protect is False
    assert "client_id" not in nordic.inputs  # an empty value is unset
    assert nordic.inputs["status"] == "suspended" and nordic.inputs["deletion_policy"] == "retain"


def test_every_problem_at_once_with_file_line_customer_and_field(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        """\
        customers:
          acme:
            display_name: Acme SA
            billing_address:
              name: Acme SA
              country: XX
              city: Lausanne
              postal_cod: "1003"
              street_name: Rue de Bourg
            status: deleted
            protect: maybe
          globex:
            display_name: Globex
            display_name: Globex GmbH
            owner_email: not-an-address
            billing_address: Marienplatz 8, München
            colour: blue
          acme:
            display_name: Acme again
          "bad key!":
            display_name: x
        """,
    )
    assert found == [
        "customers.yaml:2: customer 'acme': owner_email is required",
        "customers.yaml:5: customer 'acme': billing_address.postal_code is required",
        "customers.yaml:6: customer 'acme': billing_address.country is 'XX', not an ISO 3166-1 alpha-2 "
        "country code (such as CH, DE, FR)",
        "customers.yaml:8: customer 'acme': billing_address: postal_cod is not a field; "
        "did you mean postal_code?",
        "customers.yaml:10: customer 'acme': status must be 'active' or 'suspended', got 'deleted'",
        "customers.yaml:11: customer 'acme': protect must be true or false, got 'maybe'",
        "customers.yaml:14: customer 'globex': the customer: display_name is written twice "
        "(first on line 13)",
        "customers.yaml:15: customer 'globex': owner_email is 'not-an-address', not an e-mail address: "
        "An email address must have an @-sign.",
        "customers.yaml:16: customer 'globex': billing_address must be a set of `field: value` lines",
        "customers.yaml:17: customer 'globex': the customer: colour is not a field; the fields are "
        "display_name, owner_email, billing_address, client_id, status, deletion_policy, adopt_id, "
        "allow_replacement, protect, shard",
        "customers.yaml:18: customers: acme is written twice (first on line 2)",
        "customers.yaml:20: the key 'bad key!' must start with a letter or a digit and hold only letters, "
        "digits, '.', '_' and '-' (at most 100)",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "customers.yaml: the file is empty; it must start with `customers:`"),
        ("customers: [a, b]\n", "customers.yaml:1: customers must be a set of `field: value` lines"),
        (
            "clients:\n  a: {}\n",
            "customers.yaml:1: the file: clients is not a field; the fields are customers",
        ),
        ("clients:\n  a: {}\n", "customers.yaml:1: the file must have a `customers:` section"),
        ("customers:\n  a:\n    display_name: [x\n", "customers.yaml:4: not valid YAML: "),
        (
            "customers:\n  a: b\n",
            "customers.yaml:2: customer 'a': the customer must be a set of `field: value` lines",
        ),
        (
            "customers:\n  a:\n    display_name:\n      - x\n",
            "customers.yaml:4: customer 'a': display_name must be a single value, not a list or a set "
            "of fields",
        ),
    ],
)
def test_the_shape_of_the_file(tmp_path: Path, text: str, expected: str) -> None:
    assert any(problem.startswith(expected) for problem in problems(tmp_path, text))


def test_an_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(CustomerFileError, match=r"missing\.yaml: cannot be read: \[Errno 2\]"):
        load_customers(tmp_path / "missing.yaml")


def test_the_error_is_ours_and_shown_by_pulumi_without_a_traceback() -> None:
    assert issubclass(CustomerFileError, ExoDistributorError)
    assert issubclass(CustomerFileError, pulumi.RunError)


def test_a_customer_may_name_its_shard(tmp_path: Path) -> None:
    text = GOOD.replace("    client_id: acme-001\n", "    client_id: acme-001\n    shard: shard-2\n")
    acme, nordic = load_customers(write(tmp_path, text))
    assert (acme.shard, nordic.shard) == ("shard-2", None)
    assert "shard" not in acme.inputs  # not an input of the resource
    bad = text.replace("    shard: shard-2\n", "    shard: [shard-2]\n")
    assert problems(tmp_path, bad) == [
        "customers.yaml:14: customer 'acme': shard must be a single value, not a list or a set of fields"
    ]
