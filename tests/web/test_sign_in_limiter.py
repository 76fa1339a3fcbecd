"""The in-process limit on sign-in link requests: per address and per client, in a sliding window, bounded."""

from domain.sign_in_links import SignInLimiter


def test_an_address_gets_at_most_its_limit_within_the_window() -> None:
    limiter = SignInLimiter(per_email=2, per_ip=100, window_s=60)

    answers = [limiter.allow("A@example.com", f"10.0.0.{i}", now=i) for i in range(3)]
    later = limiter.allow("a@example.com", "10.0.0.9", now=61)

    assert answers == [True, True, False]  # the same address in any case, from any client
    assert later is True  # the first request left the window


def test_a_client_gets_at_most_its_limit_across_addresses() -> None:
    limiter = SignInLimiter(per_email=100, per_ip=3, window_s=60)

    answers = [limiter.allow(f"user{i}@example.com", "10.0.0.1", now=i) for i in range(4)]
    other_client = limiter.allow("user9@example.com", "10.0.0.2", now=5)

    assert answers == [True, True, True, False] and other_client is True


def test_a_refused_request_is_not_counted_and_memory_stays_bounded() -> None:
    limiter = SignInLimiter(per_email=1, per_ip=100, window_s=60, size=10)

    first, refused, after_window = (
        limiter.allow("a@example.com", "ip", now=0),
        limiter.allow("a@example.com", "ip", now=1),
        limiter.allow("a@example.com", "ip", now=60.5),
    )
    for i in range(50):
        limiter.allow(f"u{i}@example.com", f"ip{i}", now=100)

    assert (first, refused, after_window) == (True, False, True)
    assert len(limiter._seen) <= 10 + 2
