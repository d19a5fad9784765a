"""The progress hook for long work other than repeat zones (networks, ``--map``
batches): ``reporting`` hands out a ``Tracker``; a caller's own callback is used as
is, otherwise a bar is drawn on a terminal only, and erased however the block ends."""

from __future__ import annotations

import io

import pytest

from ccomp.driver.progress import ProgressBar, Tracker, reporting, terminal_bar


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_callers_callback_gets_every_unit_and_never_more_than_total():
    seen: list[tuple[int, int]] = []
    with reporting(3, "map ", lambda done, total: seen.append((done, total)), stream=Terminal()) as t:
        for _ in range(4):
            t.advance()
    assert seen == [(1, 3), (2, 3), (3, 3), (3, 3)]


def test_no_output_when_the_stream_is_not_a_terminal():
    quiet = io.StringIO()
    with reporting(5, "net ", stream=quiet) as t:
        assert isinstance(t, Tracker) and t.report is None
        t.advance(5)
    assert quiet.getvalue() == "" and t.done == 5


def test_a_terminal_gets_a_bar_that_is_erased_at_the_end_even_on_ctrl_c():
    term = Terminal()
    with pytest.raises(KeyboardInterrupt):
        with reporting(4, "net ", stream=term) as t:
            assert isinstance(t.report, ProgressBar)
            t.report.next = 0.0  # draw now: no waiting in a unit test
            t.advance(2)
            assert "net [" in term.getvalue() and "2/4 50%" in term.getvalue()
            raise KeyboardInterrupt
    assert term.getvalue().endswith("\r") and t.report.drawn == 0  # the line was blanked out


def test_terminal_bar_follows_the_cli_rule():
    assert terminal_bar("x ", io.StringIO()) is None
    assert isinstance(terminal_bar("x ", Terminal()), ProgressBar)
    assert terminal_bar("x ", Terminal(), enabled=False) is None  # --no-progress
    assert isinstance(terminal_bar("x ", io.StringIO(), enabled=True), ProgressBar)  # --progress
