"""The AT answers the modem driver parses (3GPP TS 27.005 text mode, 27.007), as modems send them."""

from __future__ import annotations

import pytest

from hal.errors import FrameError
from hal.events import SmsReceived
from hal.modem.at import (
    choose_storage,
    parse_iccid,
    parse_imsi,
    parse_indication,
    parse_listing,
    parse_manufacturer,
    parse_message,
    parse_signal,
    parse_storage_options,
)
from hal.modem.atchannel import AtCommandError


def test_a_listing_with_multi_line_empty_and_garbled_messages() -> None:
    lines = [
        "",
        '+CMGL: 1,"REC UNREAD","+31611111111",,"24/05/01,12:00:00+08"',
        "first line",
        "second, with a comma",
        '+CMGL: 2,"REC READ","+31622222222","Alice","24/05/01,12:01:00+08"',
        "",
        '+CMGL: x,"REC READ","+31633333333",,"24/05/01,12:02:00+08"',
        "lost",
        "+CMGL: 4,\"REC UNREAD\",\"+31644444444\"",
        "no time stamp",
        "",
    ]
    found, garbled = parse_listing(lines)
    assert [(m.index, m.sender, m.text, m.sent_at) for m in found] == [
        (1, "+31611111111", "first line\nsecond, with a comma", "24/05/01,12:00:00+08"),
        (2, "+31622222222", "", "24/05/01,12:01:00+08"),
        (4, "+31644444444", "no time stamp", ""),
    ]
    assert garbled == 1
    assert parse_listing([]) == ([], 0)


def test_a_listing_leaves_the_modems_outgoing_messages_out() -> None:
    lines = ['+CMGL: 1,"STO SENT","+31699999999",,', "CB-1",
             '+CMGL: 2,"REC READ","+31611111111",,"24/05/01,12:00:00+08"', "CB-1",
             '+CMGL: 3,"STO UNSENT","+31699999999","",', "draft"]
    found, garbled = parse_listing(lines, "ME")
    assert [(m.index, m.storage, m.sender) for m in found] == [(2, "ME", "+31611111111")]
    assert garbled == 0


def test_a_message_read_by_index() -> None:
    sms = parse_message(3, ['+CMGR: "REC UNREAD","+31611111111",,"24/05/01,12:00:00+08"', "CB-1", ""])
    assert sms == SmsReceived(sender="+31611111111", text="CB-1", index=3, sent_at="24/05/01,12:00:00+08")
    assert parse_message(3, []) is None  # some modems answer an empty slot with a bare OK
    assert parse_message(3, ['+CMGR: "STO SENT","+31699999999",', "CB-1"]) is None  # the modem's own
    assert parse_message(3, ['+CMGR: "REC READ","+31611111111",,"24/05/01,12:00:00+08"', "x"], "SM") == \
        SmsReceived(sender="+31611111111", text="x", index=3, sent_at="24/05/01,12:00:00+08", storage="SM")
    with pytest.raises(FrameError):
        parse_message(3, ['+CMGR: "REC UNREAD"'])


def test_indications() -> None:
    assert parse_indication('+CMTI: "SM",3') == ("SM", 3)
    assert parse_indication('+CMTI: "ME", 12') == ("ME", 12)
    assert parse_indication('+CMTI: "M\"E",1') is None  # never quoted into AT+CPMS
    assert parse_indication('+CMTI: "SM"') is None
    assert parse_indication("RING") is None


def test_signal_quality_in_dbm() -> None:
    assert parse_signal(["+CSQ: 0,0"]) == (-113, 0)
    assert parse_signal(["+CSQ: 31,7"]) == (-51, 7)
    assert parse_signal(["", "+CSQ: 99,99"]) == (None, None)
    for bad in (["+CSQ: 32,0"], ["+CSQ: 10,8"], ["+CSQ: a,0"], ["+CSQ: 10"], []):
        with pytest.raises(FrameError):
            parse_signal(bad)


def test_storages_offered_and_the_one_chosen() -> None:
    offered = parse_storage_options(["", '+CPMS: ("SM","ME","MT"),("SM","ME","MT"),("SM","ME","MT")'])
    assert offered == [["SM", "ME", "MT"]] * 3
    assert choose_storage(offered) == "ME"
    assert choose_storage(parse_storage_options(['+CPMS: ("SM","ME"),("SM","ME"),("SM")'])) == "SM"
    assert choose_storage(parse_storage_options(['+CPMS: ("ME","SM")'])) == "ME"  # mem1 only: for all
    for bad in ([], ["+CPMS: 0,30,0,30,0,30"]):
        with pytest.raises(FrameError):
            parse_storage_options(bad)
    with pytest.raises(FrameError, match="no storage"):
        choose_storage([["MT"], ["MT"], ["MT"]])


def test_the_manufacturer() -> None:
    assert parse_manufacturer(["Quectel"]) == "Quectel"
    assert parse_manufacturer(["", '+CGMI: "SIMCOM INCORPORATED"']) == "SIMCOM INCORPORATED"
    assert parse_manufacturer([]) == ""


@pytest.mark.parametrize("answer", [
    ["+CCID: 89314404000123456789"], ["+ICCID: 89314404000123456789"], ['^ICCID: "89314404000123456789"'],
    ["89314404000123456789"], ["+QCCID: 8931440400012345678F"], ["+QCCID: 8931440400012345678f"],
    ["ICCID: 8931440400012345678"], ["#CCID: 89314404000123456789"], ['+CCID: "8931440400012345678F"'],
])
def test_iccid_as_makers_send_it(answer: list[str]) -> None:
    assert parse_iccid(answer) in ("89314404000123456789", "8931440400012345678")


def test_bad_identities_are_frame_errors() -> None:
    for bad in (["+CCID: 123"], ["+CCID: 8931440400012345678901234"], ["+CCID: SIM NOT INSERTED"], [],
                ["+QCCID: 893144040001234567"], ["+QCCID: 893144040001234567FF"],
                ["+CCID: 89314404000123456789F"]):
        with pytest.raises(FrameError):
            parse_iccid(bad)
    assert parse_imsi(["204043123456789"]) == "204043123456789"
    for bad in (["2040431234567890"], ["ERROR"], []):
        with pytest.raises(FrameError):
            parse_imsi(bad)


def test_error_answers_carry_their_code() -> None:
    assert AtCommandError("AT+CMGR=9", "+CMS ERROR: 321").code == 321
    assert AtCommandError("AT+FOO", "ERROR").code is None


def test_a_message_never_shows_its_text_in_a_log() -> None:
    sms = SmsReceived(sender="+31611112345", text="secret-token", index=1)
    assert "secret" not in repr(sms) and "secret" not in str(sms) and "+316111" not in repr(sms)
    assert repr(sms) == "SmsReceived(sender='…2345', text=<12 characters>, index=1)"
