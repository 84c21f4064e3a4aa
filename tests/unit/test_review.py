"""The review of `pulumi preview --json` output, on previews the real engine printed.

The files in previews/ are `pulumi preview --json` outputs of a stack of DistributorOrganizations
against the simulator (sanitized: stack traces, source positions and timestamps left out, the
stack renamed `prod` / `staging`, the project `exo-fleet`). The `.jsonl` ones are the engine's
event stream (PULUMI_ENABLE_STREAMING_JSON_PREVIEW=true) of the same kind of preview. All but
recorded-policy.json come from a provider that recorded the deletion policy in a state's inputs
only when the program declared it (in its outputs always): states written by it are still about.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pulumi_exo_distributor._review import (
    EXIT_ATTENTION,
    EXIT_CLEAN,
    EXIT_DESTRUCTIVE,
    EXIT_PREVIEW_FAILED,
    Change,
    Level,
    PreviewFileError,
    Review,
    markdown,
    read_preview,
)

PREVIEWS = Path(__file__).with_name("previews")
TYPE = "pulumi-python:dynamic/exoscale:DistributorOrganization"


def text(name: str) -> str:
    return (PREVIEWS / name).read_text(encoding="utf-8")


def review(*names: str) -> Review:
    return Review([read_preview(text(name), name) for name in names])


def rows(result: Review) -> set[tuple[str, str]]:
    """(consequence, resource) of every change."""
    return {(change.consequence.key, change.resource) for change in result.changes}


def one(result: Review) -> Change:
    assert len(result.changes) == 1, result.changes
    return result.changes[0]


def edited(name: str, edit: Callable[[dict[str, Any]], None]) -> Review:
    """A review of a fixture after ``edit`` changed its JSON document."""
    document = json.loads(text(name))
    edit(document)
    return Review([read_preview(json.dumps(document), name)])


def step_of(document: dict[str, Any], resource: str) -> dict[str, Any]:
    found: dict[str, Any] = next(s for s in document["steps"] if s["urn"].endswith(f"::{resource}"))
    return found


# -- every consequence, from a real preview --------------------------------------------------------


def test_a_new_organization_is_a_create_with_its_deletion_policy() -> None:
    result = review("create.json")
    assert {key for key, _ in rows(result)} == {"create"}
    by_resource = {change.resource: change for change in result.changes}
    assert len(by_resource) == 9
    purged = by_resource["purged"]
    assert purged.organization_id is None
    assert purged.name == "Purged SA"
    assert purged.client_id == "pulumi:exo-fleet/prod/purged"
    assert purged.stack == "prod"
    assert "deletion_policy purge" in purged.detail
    # Declared retain, or left out (the documented default for a created organization: purge).
    assert "deletion_policy retain" in by_resource["retained"].detail
    assert "deletion_policy purge" in by_resource["defaulted"].detail
    assert by_resource["suspendme"].client_id == "susp-1"
    assert result.exit_code == EXIT_CLEAN


def test_a_create_with_adopt_id_takes_over_the_organization_it_names() -> None:
    change = one(review("adopt.json"))
    assert change.consequence.key == "take-over"
    assert change.organization_id == "c94f6c9f-b558-458d-afd6-12c12d60d6a9"
    assert (
        "existing organization c94f6c9f-b558-458d-afd6-12c12d60d6a9 taken under management" in change.detail
    )
    # adopt_id without a declared policy: retain.
    assert "deletion_policy retain" in change.detail
    assert change.level is Level.NONE


def test_a_status_change_to_suspended_is_a_suspension() -> None:
    result = review("suspend.json")
    change = one(result)
    assert (change.consequence.key, change.resource) == ("suspend", "suspendme")
    assert change.organization_id == "49922e95-08e5-4752-bd0d-993b95a73908"
    assert "status active → suspended" in change.detail
    assert result.exit_code == EXIT_ATTENTION


def test_taking_over_an_organization_declared_suspended_needs_attention() -> None:
    def suspended(document: dict[str, Any]) -> None:
        step_of(document, "legacy")["newState"]["inputs"]["status"] = "suspended"

    result = edited("adopt.json", suspended)
    change = one(result)
    assert change.consequence.key == "take-over"
    assert "status made suspended (if it is active now, the customer is suspended)" in change.detail
    assert change.level is Level.ATTENTION
    assert result.exit_code == EXIT_ATTENTION


@pytest.mark.parametrize("before", ["suspended", "created"])
def test_a_status_change_to_active_is_a_reactivation(before: str) -> None:
    def suspended_before(document: dict[str, Any]) -> None:
        step = step_of(document, "suspendme")
        step["oldState"]["inputs"]["status"] = step["oldState"]["outputs"]["status"] = before
        step["newState"]["inputs"]["status"] = "active"

    result = edited("suspend.json", suspended_before)
    change = one(result)
    assert change.consequence.key == "reactivate"
    assert f"status {before} → active" in change.detail
    assert result.exit_code == EXIT_CLEAN


def test_a_removal_follows_each_deletion_policy() -> None:
    result = review("delete.json")
    assert rows(result) == {
        ("terminate-and-purge", "purged"),
        ("terminate-and-purge", "defaulted"),  # no policy declared: purge, from the outputs
        ("terminate", "terminated"),
        ("leave-running", "retained"),
    }
    by_resource = {change.resource: change for change in result.changes}
    assert by_resource["purged"].organization_id == "47fc22c6-7872-49f2-8085-a165b81ed88b"
    assert "purge scheduled" in by_resource["purged"].detail
    assert "not purged" in by_resource["terminated"].detail
    assert "no stack manages it any more" in by_resource["retained"].detail
    assert by_resource["retained"].level is Level.ATTENTION
    assert result.exit_code == EXIT_DESTRUCTIVE
    # The most destructive first.
    assert [change.consequence.key for change in result.changes] == [
        "terminate-and-purge",
        "terminate-and-purge",
        "terminate",
        "leave-running",
    ]


def test_a_replacement_says_what_happens_to_the_old_organization() -> None:
    result = review("replace.json")
    change = one(result)
    assert change.consequence.key == "replace"
    assert change.organization_id == "cbbe619a-fc8c-4237-b0f0-6d437a0ad65c"
    assert "display_name 'Old Name SA' → 'New Name SA'" in change.detail
    assert "a new organization is created" in change.detail
    assert "purge scheduled" in change.detail and "(its deletion_policy purge)" in change.detail
    assert result.exit_code == EXIT_DESTRUCTIVE


def test_the_replacement_steps_make_one_replacement() -> None:
    # --show-replacement-steps lists create-replacement, replace and delete-replaced.
    assert review("replace-steps.json").changes == [
        change.__class__(**{**change.__dict__, "source": "replace-steps.json"})
        for change in review("replace.json").changes
    ]


def test_a_replacement_of_a_retained_organization_leaves_the_old_one_running() -> None:
    def retained(document: dict[str, Any]) -> None:
        step_of(document, "renamed")["oldState"]["outputs"]["deletion_policy"] = "retain"

    change = one(edited("replace.json", retained))
    assert change.consequence.key == "replace"
    assert change.level is Level.DESTRUCTIVE
    assert "left running as it is" in change.detail and "(its deletion_policy retain)" in change.detail


def test_a_deletion_policy_change_has_no_effect_now_and_says_what_a_removal_would_do() -> None:
    result = review("policy.json")
    change = one(result)
    assert change.consequence.key == "deletion-policy-change"
    assert "deletion_policy retain → purge: nothing happens now" in change.detail
    assert "terminates it and schedules its purge" in change.detail
    # A later removal becomes destructive: needs attention.
    assert change.level is Level.ATTENTION
    assert result.exit_code == EXIT_ATTENTION


def test_a_deletion_policy_change_towards_retain_needs_no_attention() -> None:
    def safer(document: dict[str, Any]) -> None:
        step = step_of(document, "policy")
        step["oldState"]["inputs"]["deletion_policy"] = step["oldState"]["outputs"]["deletion_policy"] = (
            "purge"
        )
        step["newState"]["inputs"]["deletion_policy"] = "retain"

    result = edited("policy.json", safer)
    change = one(result)
    assert "deletion_policy purge → retain" in change.detail
    assert change.level is Level.NONE
    assert result.exit_code == EXIT_CLEAN


def test_an_owner_email_change_is_recorded_only() -> None:
    result = review("email.json")
    change = one(result)
    assert change.consequence.key == "record-only"
    assert "owner_email 'ops@acme.example' → 'new@acme.example'" in change.detail
    assert "no API call" in change.detail
    assert result.exit_code == EXIT_CLEAN


def test_a_suspension_with_other_edits_names_them_on_the_same_row() -> None:
    def also_email(document: dict[str, Any]) -> None:
        step_of(document, "suspendme")["newState"]["inputs"]["owner_email"] = "new@acme.example"

    change = one(edited("suspend.json", also_email))
    assert change.consequence.key == "suspend"
    assert "(also recorded: owner_email 'ops@acme.example' → 'new@acme.example')" in change.detail


def test_unchanged_organizations_are_counted_and_listed_when_the_preview_lists_them() -> None:
    counted = review("suspend.json")
    # The digest lists no unchanged resource but the stack: the engine's count, less the stack.
    assert counted.counts["unchanged"] == 8
    assert counted.unchanged == []
    listed = review("show-sames.json")  # --show-sames, cut down to two organizations
    assert {change.resource for change in listed.unchanged} == {"keep", "policy"}
    assert all(change.consequence.key == "unchanged" for change in listed.unchanged)
    assert listed.counts["unchanged"] == 8
    events = review("mixed-events.jsonl")  # an event stream lists every step
    assert len(events.unchanged) == events.counts["unchanged"] == 5


def test_a_refresh_that_finds_changes_made_outside_pulumi() -> None:
    # `preview --refresh` after one organization was suspended and another terminated by hand.
    result = review("drift-refresh.json")
    assert rows(result) == {("reactivate", "keep"), ("create-again", "email")}
    again = next(change for change in result.changes if change.resource == "email")
    assert "organization 69113ad6-e216-4134-a6c0-869cb112616e was not found by the refresh" in again.detail
    assert again.level is Level.ATTENTION
    assert result.exit_code == EXIT_ATTENTION


# -- the deletion policy a removal applies ---------------------------------------------------------


def test_a_state_that_records_its_policy_in_its_inputs() -> None:
    # recorded-policy.json: from a provider that records the effective policy in every state's
    # inputs, the declared one or the default. Five organizations, four removed, and the declared
    # `retain` of the fifth removed (its default, purge, then applies).
    document = json.loads(text("recorded-policy.json"))
    deletes = [step for step in document["steps"] if step["op"] == "delete"]
    assert all("deletion_policy" in step["oldState"]["inputs"] for step in deletes)
    result = review("recorded-policy.json")
    assert rows(result) == {
        ("terminate-and-purge", "purged"),
        ("terminate-and-purge", "defaulted"),
        ("terminate", "terminated"),
        ("leave-running", "retained"),
        ("deletion-policy-change", "policy"),
    }
    policy = next(change for change in result.changes if change.resource == "policy")
    assert "deletion_policy retain → purge" in policy.detail
    assert policy.level is Level.ATTENTION


def _retained_delete(edit: Callable[[dict[str, Any]], None]) -> Change:
    def apply(document: dict[str, Any]) -> None:
        document["steps"] = [step_of(document, "retained")]
        edit(document["steps"][0]["oldState"])

    return one(edited("delete.json", apply))


def test_the_policy_comes_from_the_inputs_first() -> None:
    def inputs_say_purge(state: dict[str, Any]) -> None:
        state["inputs"]["deletion_policy"] = "purge"  # as the provider will record it from now on

    assert _retained_delete(inputs_say_purge).consequence.key == "terminate-and-purge"


def test_the_policy_comes_from_the_outputs_when_the_inputs_have_none() -> None:
    def outputs_only(state: dict[str, Any]) -> None:
        state["inputs"].pop("deletion_policy", None)
        state["outputs"]["deletion_policy"] = "terminate"

    assert _retained_delete(outputs_only).consequence.key == "terminate"


def test_without_a_recorded_policy_a_created_organization_is_purged() -> None:
    def none(state: dict[str, Any]) -> None:
        state["inputs"].pop("deletion_policy", None)
        state["outputs"].pop("deletion_policy", None)

    change = _retained_delete(none)
    assert change.consequence.key == "terminate-and-purge"
    assert "(deletion_policy purge)" in change.detail


def test_without_a_recorded_policy_an_adopted_organization_is_retained() -> None:
    def adopted(state: dict[str, Any]) -> None:
        state["inputs"].pop("deletion_policy", None)
        state["outputs"].pop("deletion_policy", None)
        state["inputs"]["adopt_id"] = state["id"]

    assert _retained_delete(adopted).consequence.key == "leave-running"


def test_retain_on_delete_leaves_the_organization_running_whatever_its_policy() -> None:
    def option(state: dict[str, Any]) -> None:
        state["inputs"]["deletion_policy"] = "purge"
        state["retainOnDelete"] = True

    change = _retained_delete(option)
    assert change.consequence.key == "leave-running"
    assert "retainOnDelete" in change.detail


# -- shapes and several stacks ---------------------------------------------------------------------


def test_the_digest_and_the_event_stream_say_the_same() -> None:
    digest, events = review("mixed.json"), review("mixed-events.jsonl")
    assert [(c.consequence, c.resource, c.organization_id, c.detail) for c in digest.changes] == [
        (c.consequence, c.resource, c.organization_id, c.detail) for c in events.changes
    ]
    assert rows(digest) == {
        ("terminate-and-purge", "purged"),
        ("terminate", "terminated"),
        ("leave-running", "retained"),
        ("suspend", "suspendme"),
        ("take-over", "legacy"),
        ("create", "newbie"),
    }
    assert digest.files[0].shape == "digest" and events.files[0].shape == "events"


def test_several_previews_make_one_review_each_row_naming_its_stack_and_file() -> None:
    result = review("mixed.json", "protected.json")
    assert result.stacks == ["prod", "staging"]
    guarded = next(change for change in result.changes if change.resource == "guarded")
    assert (guarded.stack, guarded.source) == ("staging", "protected.json")
    purged = next(change for change in result.changes if change.resource == "purged")
    assert (purged.stack, purged.source) == ("prod", "mixed.json")
    assert result.counts["terminate-and-purge"] == 2
    assert result.counts["unchanged"] == 5 + 1
    as_json = result.as_dict()
    assert [preview["source"] for preview in as_json["previews"]] == ["mixed.json", "protected.json"]
    assert json.loads(json.dumps(as_json)) == as_json


def test_other_resources_are_not_organizations() -> None:
    def foreign(document: dict[str, Any]) -> None:
        template = step_of(document, "retained")
        other = copy.deepcopy(template)
        other["urn"] = other["oldState"]["urn"] = "urn:pulumi:prod::exo-fleet::aws:s3/bucket:Bucket::logs"
        other["oldState"]["type"] = "aws:s3/bucket:Bucket"
        dynamic = copy.deepcopy(template)
        dynamic["urn"] = dynamic["oldState"]["urn"] = (
            "urn:pulumi:prod::exo-fleet::pulumi-python:dynamic:Resource::x"
        )
        dynamic["oldState"]["type"] = "pulumi-python:dynamic:Resource"
        dynamic["oldState"]["inputs"] = {"__provider": "bm90IG91cnM=", "value": 1}  # "not ours"
        document["steps"] = [other, dynamic]

    assert edited("delete.json", foreign).changes == []


def test_a_dynamic_resource_with_our_provider_is_an_organization_under_any_type() -> None:
    def generic(document: dict[str, Any]) -> None:
        step = step_of(document, "retained")
        step["urn"] = step["oldState"]["urn"] = (
            "urn:pulumi:prod::exo-fleet::pulumi-python:dynamic:Resource::r"
        )
        step["oldState"]["type"] = "pulumi-python:dynamic:Resource"
        document["steps"] = [step]

    change = one(edited("delete.json", generic))
    assert (change.consequence.key, change.resource) == ("leave-running", "r")


def test_a_step_the_review_does_not_know_needs_attention() -> None:
    def odd(document: dict[str, Any]) -> None:
        step = step_of(document, "retained")
        step["op"] = "teleport"
        document["steps"] = [step]

    result = edited("delete.json", odd)
    change = one(result)
    assert change.consequence.key == "other-step"
    assert "'teleport'" in change.detail
    assert result.exit_code == EXIT_ATTENTION


def test_a_status_known_only_at_up_may_be_a_suspension() -> None:
    def unknown(document: dict[str, Any]) -> None:
        step_of(document, "suspendme")["newState"]["inputs"]["status"] = (
            "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
        )

    change = one(edited("suspend.json", unknown))
    assert change.consequence.key == "suspend"
    assert "known only at up" in change.detail


# -- a failed preview ------------------------------------------------------------------------------


def test_a_failed_preview_reports_its_errors_and_fails_the_review() -> None:
    result = review("failed.json")
    assert result.exit_code == EXIT_PREVIEW_FAILED
    assert result.verdict == "preview-failed"
    [error] = result.errors
    assert "billing_address.country is 'XX', not an ISO 3166-1 alpha-2 country code" in error.message
    assert not error.message.startswith("error:")
    assert error.urn and error.urn.endswith("::bad")


def test_a_program_that_crashed_has_no_steps_and_fails_the_review() -> None:
    result = review("crash.json")
    assert result.changes == []
    assert result.exit_code == EXIT_PREVIEW_FAILED
    assert "Program failed with an unhandled exception" in result.errors[0].message


def test_a_failure_outranks_the_destructive_steps_it_still_lists() -> None:
    # Removing a protected organization: the engine lists the delete, then fails.
    for name in ("protected.json", "protected-events.jsonl"):
        result = review(name)
        assert rows(result) == {("terminate-and-purge", "guarded")}
        assert any("because it is protected" in error.message for error in result.errors)
        assert result.exit_code == EXIT_PREVIEW_FAILED


def test_an_event_stream_cut_short_fails_the_review() -> None:
    lines = [line for line in text("mixed-events.jsonl").splitlines() if "summaryEvent" not in line]
    result = Review([read_preview("\n".join(lines), "cut.jsonl")])
    assert result.files[0].failure == "the events end before the preview's summary: the preview was cut short"
    assert result.exit_code == EXIT_PREVIEW_FAILED


# -- exit codes and bad input ----------------------------------------------------------------------


def test_exit_codes_are_distinct_and_leave_the_errors_their_codes() -> None:
    codes = [EXIT_CLEAN, EXIT_ATTENTION, EXIT_DESTRUCTIVE, EXIT_PREVIEW_FAILED]
    assert EXIT_CLEAN == 0
    assert len(set(codes)) == 4
    # 1: an error, 2: a wrong command line, 3: a missing extra, 130: interrupted.
    assert not {1, 2, 3, 130} & set(codes)
    assert EXIT_ATTENTION < EXIT_DESTRUCTIVE < EXIT_PREVIEW_FAILED


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ("", "is empty: `pulumi preview --json` printed nothing"),
        ("  \n", "is empty"),
        ("Previewing update (prod):\n", "line 1 is not JSON"),
        ('{"version": 3, "deployment": {}}', "is JSON but not the output of `pulumi preview --json`"),
        ("[1, 2]", "item 1 is not an engine event"),
        ('"steps"', "is JSON but not the output of `pulumi preview --json` (a str)"),
        ('{"steps": [{"urn": "x"}]}', "step 1 has no `op` or `urn`"),
        ('{"steps": {}}', "`steps` and `diagnostics` must be lists"),
    ],
)
def test_what_is_not_a_preview_is_refused_naming_the_file(content: str, says: str) -> None:
    with pytest.raises(PreviewFileError) as caught:
        read_preview(content, "prod.json")
    assert str(caught.value).startswith("prod.json ") or str(caught.value).startswith("prod.json:")
    assert says in str(caught.value)


def test_a_byte_order_mark_is_no_problem() -> None:
    assert rows(Review([read_preview("\ufeff" + text("suspend.json"), "bom.json")])) == {
        ("suspend", "suspendme")
    }


# -- markdown --------------------------------------------------------------------------------------


def test_markdown_puts_destructive_changes_first_and_marks_them() -> None:
    comment = markdown(review("mixed.json", "policy.json"))
    assert comment.startswith("## Customer organizations: what this change does\n")
    assert "**🛑 Destructive: 2 organization(s) would be terminated, purged or replaced.**" in comment
    assert "| 🛑 | Terminate and purge | 1 |" in comment
    assert "| ⚠️ | Deletion policy change | 1 |" in comment
    assert "|  | Unchanged | 13 |" in comment
    headings = [line for line in comment.splitlines() if line.startswith("### ")]
    assert headings == [
        "### 🛑 Terminate and purge (1)",
        "### 🛑 Terminate (1)",
        "### ⚠️ Suspend (1)",
        "### ⚠️ Leave running, no longer managed (1)",
        "### ⚠️ Deletion policy change (1)",
        "### Create (1)",
        "### Take over (1)",
    ]
    purged = "| `47fc22c6-7872-49f2-8085-a165b81ed88b` | Purged SA | `pulumi:exo-fleet/prod/purged` | prod |"
    assert purged + " `purged` | removed from the program" in comment
    assert "| (new) | Newbie SA |" in comment
    assert comment.rstrip().endswith("<sub>`exo-distributor review`: exit code 20 (destructive).</sub>")


def test_markdown_escapes_what_a_program_declares() -> None:
    def hostile(document: dict[str, Any]) -> None:
        inputs = step_of(document, "suspendme")["newState"]["inputs"]
        inputs["display_name"] = "A|B <script>x</script> **bold**\nnext"
        inputs["client_id"] = "c|d"

    comment = markdown(edited("suspend.json", hostile))
    row = next(line for line in comment.splitlines() if "suspendme" in line)
    assert "A\\|B &lt;script&gt;x&lt;/script&gt; \\*\\*bold\\*\\* next" in row
    assert "`c\\|d`" in row
    assert row.count(" | ") == 5  # six cells, whatever the name held


def test_markdown_lists_at_most_max_rows_the_destructive_ones_first() -> None:
    comment = markdown(review("delete.json", "create.json"), max_rows=3)
    assert sum(line.startswith("| `") for line in comment.splitlines()) == 3
    assert "| … | 1 more |" in comment  # the fourth removal
    assert "| … | 9 more |" in comment  # every create
    assert "### 🛑 Terminate and purge (2)" in comment


def test_markdown_shows_the_errors_of_a_failed_preview() -> None:
    comment = markdown(review("crash.json"))
    assert "**❌ The preview failed**" in comment
    assert "### ❌ The preview failed: crash.json" in comment
    assert "```text\nProgram failed with an unhandled exception:" in comment
    assert "exit code 30 (preview-failed)" in comment


def test_markdown_keeps_the_errors_of_many_failed_previews_short() -> None:
    failed = json.loads(text("failed.json"))
    failed["diagnostics"] = [
        {"severity": "error", "message": f"error {n}: " + "x" * 5000 + "\n"} for n in range(12)
    ]
    previews = [read_preview(json.dumps(failed), f"shard-{n}.json") for n in range(8)]
    comment = markdown(Review(previews))
    assert len(comment) < 30000  # a comment holds 65,536 characters
    assert comment.count("### ❌ The preview failed: shard-") == 8
    assert "error 0: xxx" in comment and "[... cut]" in comment
    assert "and 12 more error(s): see the preview itself." in comment  # the last shards' errors


def test_markdown_with_all_lists_the_unchanged_organizations_the_preview_lists() -> None:
    result = review("show-sames.json")
    assert "### Unchanged" not in markdown(result)
    assert "### Unchanged (2)" in markdown(result, include_unchanged=True)


def test_the_sample_comment_in_the_docs_is_what_the_command_prints() -> None:
    docs = (Path(__file__).parents[2] / "docs" / "review.md").read_text(encoding="utf-8")
    sample = markdown(Review([read_preview(text("mixed.json"), "prod.json")]))
    assert f"````markdown\n{sample}````" in docs, (
        "docs/review.md's sample is out of date; replace it with:\n" + sample
    )
