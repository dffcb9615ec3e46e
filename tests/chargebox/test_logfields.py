"""IdTags in logs: masked by default, the last characters kept to tell cards apart."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chargebox.logfields import fields, mask_id_tag, set_id_tag_masking, traceback_of


@pytest.fixture(autouse=True)
def masking_restored() -> Iterator[None]:
    yield
    set_id_tag_masking(True)


def test_a_tag_keeps_its_last_four_characters_and_hides_its_length() -> None:
    assert mask_id_tag("04A2B3C4D5E680") == "…E680"
    assert mask_id_tag("12345678") == "…5678"
    assert mask_id_tag("1234567") == "…"  # too short to show anything of it
    assert mask_id_tag("") == "…"
    assert mask_id_tag(None) is None


def test_masking_can_be_switched_off_for_a_site_that_wants_full_tags() -> None:
    set_id_tag_masking(False)
    assert mask_id_tag("04A2B3C4D5E680") == "04A2B3C4D5E680"
    assert fields(id_tag="04A2B3C4D5E680") == {"id_tag": "04A2B3C4D5E680"}


def test_fields_holds_only_what_was_given_with_the_tag_masked() -> None:
    assert fields(connector=1, transaction=42, local_tx=7, id_tag="04A2B3C4D5E680", action="StartTransaction") == {
        "connector": 1, "transaction": 42, "local_tx": 7, "id_tag": "…E680", "action": "StartTransaction"}
    assert fields(connector=0) == {"connector": 0}  # connector 0 is the box itself (7.7)
    assert fields() == {}


def test_a_traceback_keeps_each_exception_type_and_frame_but_no_message() -> None:
    def look_up(tag: str) -> None:
        raise KeyError(f"no card {tag}")

    tag = "04A2B3C4D5E680"
    try:
        try:
            look_up(tag)
        except KeyError as err:
            raise RuntimeError(f"authorize failed: {err}") from err
    except RuntimeError as err:
        text = traceback_of(err)
    assert tag not in text  # the messages held it; the source lines show only the code
    cause, effect = text.split("The above exception was the direct cause of the following exception:")
    assert "KeyError (message not logged)" in cause and ", in look_up\n" in cause
    assert effect.rstrip().endswith("RuntimeError (message not logged)")
    assert f'File "{__file__}"' in effect
