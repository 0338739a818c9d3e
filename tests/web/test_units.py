"""The in-memory parts on their own, on a clock the test moves: session expiry (idle and absolute),
one-time outcomes, the sign-in windows, and the sign-in form's checks."""

from __future__ import annotations

from lrs_web import forms
from lrs_web.ratelimit import SlidingWindow
from lrs_web.sessions import Flash, Lookup, Role, SessionStore


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_idle_expiry_restarts_on_use_and_absolute_expiry_does_not() -> None:
    clock = Clock()
    store = SessionStore(idle=60, absolute=150, clock=clock)
    session = store.create(Role.LEARNER, "token")
    for _ in range(2):
        clock.now += 50  # used within the idle time: still live
        assert store.find(session.id).status is Lookup.ACTIVE
    clock.now += 51  # 151 s after sign-in, 51 s after last use: past the absolute limit
    found = store.find(session.id)
    assert found.status is Lookup.EXPIRED
    assert store.find(session.id).status is Lookup.UNKNOWN  # and forgotten


def test_an_idle_session_expires() -> None:
    clock = Clock()
    store = SessionStore(idle=60, absolute=3600, clock=clock)
    session = store.create(Role.OPERATOR, "token")
    clock.now += 61
    assert store.find(session.id).status is Lookup.EXPIRED


def test_ids_and_csrf_tokens_are_random_and_flashes_show_once() -> None:
    store = SessionStore(idle=60, absolute=60)
    a, b = store.create(), store.create()
    assert len({a.id, b.id, a.csrf, b.csrf}) == 4 and len(a.id) >= 40
    store.flash(a.id, Flash("Done"))
    assert store.take_flash(a.id) == Flash("Done") and store.take_flash(a.id) is None
    store.flash(a.id, Flash("Done"))
    store.drop(a.id)
    assert store.take_flash(a.id) is None and store.find(a.id).status is Lookup.UNKNOWN


def test_sliding_window_blocks_at_the_limit_and_forgets_old_hits() -> None:
    clock = Clock()
    window = SlidingWindow(limit=3, window=100, clock=clock)
    for _ in range(3):
        assert not window.blocked("k")
        window.hit("k")
    assert window.blocked("k") and not window.blocked("other")
    clock.now += 101
    assert not window.blocked("k")
    window.hit("k")
    window.clear("k")
    assert not window.blocked("k")


def test_sign_in_form_checks() -> None:
    ok = forms.sign_in(
        {"uln": " 12345 67890 ", "dob-day": "1", "dob-month": "2", "dob-year": "2010", "code": "ab cd-ef"}
    )
    assert ok.ok and ok.values["uln"] == "1234567890" and ok.values["dob"] == "2010-02-01"
    assert ok.values["code"] == "ABCDEF"
    bad = forms.sign_in({"uln": "12", "dob-day": "31", "dob-month": "2", "dob-year": "2010", "code": ""})
    assert [(e.field, e.href) for e in bad.errors] == [("uln", "uln"), ("dob", "dob-day"), ("code", "code")]
    assert "real date" in bad.message("dob")
    assert not forms.reason({"reason": "x" * 501}).ok and forms.reason({"reason": " twins "}).values == {
        "reason": "twins"
    }
