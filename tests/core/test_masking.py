from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from linli.core.masking import (
    id_checksum,
    is_valid_id_number,
    is_valid_phone,
    mask_id_number,
    mask_name,
    mask_phone,
)


def test_known_id_numbers():
    assert is_valid_id_number("110101199003070011")
    assert is_valid_id_number("11010519491231002x")  # lower-case X is accepted
    assert not is_valid_id_number("110101199003070012")
    assert not is_valid_id_number("1101011990030700")


@given(st.text(alphabet="0123456789", min_size=17, max_size=17))
def test_checksum_makes_any_17_digits_valid(first17):
    full = first17 + id_checksum(first17)
    assert is_valid_id_number(full)
    assert mask_id_number(full) == full[:4] + "*" * 10 + full[-4:]
    # changing any one digit breaks the checksum
    i = int(first17[0]) % 17
    wrong = full[:i] + str((int(full[i]) + 1) % 10) + full[i + 1 :]
    assert not is_valid_id_number(wrong)


def test_masks():
    assert mask_phone("13800138000") == "138****8000"
    assert mask_name("张三丰") == "张**"
    assert mask_id_number("123") == "***"
    assert is_valid_phone("13800138000") and not is_valid_phone("23800138000")
