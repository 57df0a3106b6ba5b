import pytest

from tickflow.times import parse_time_ms

T0 = 1_704_067_200_000  # 2024-01-01T00:00:00Z


@pytest.mark.parametrize(
    "text",
    [
        "2024-01-01T00:00:00Z",
        "2024-01-01",
        "2024-01-01T01:00:00+01:00",
        " 1704067200 ",
        "1704067200000",
        "1704067200.000",
    ],
)
def test_iso_8601_and_epoch_seconds_or_milliseconds_read_as_the_same_moment(text):
    assert parse_time_ms(text) == T0


def test_milliseconds_are_kept():
    assert parse_time_ms("2024-01-01T00:00:00.123Z") == T0 + 123
    assert parse_time_ms("1704067200.123") == T0 + 123


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("2024-01-01T00:00:00.0005Z", "has a fraction of a millisecond"),
        ("1704067200.0004", "has a fraction of a millisecond"),
        ("yesterday", "is not an ISO-8601 time or an epoch number"),
        ("100000000000000", "is not an epoch time in seconds or milliseconds"),
    ],
)
def test_what_is_not_a_whole_millisecond_time_is_refused_with_the_reason(text, reason):
    with pytest.raises(ValueError, match=reason):
        parse_time_ms(text)
