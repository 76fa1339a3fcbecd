"""The timeline picture of a run: one row per step on a shared time axis, as an accessible inline SVG string.

Pure (no I/O, no clock: `now` comes in). Colours are classes the stylesheet fills from CSS custom properties, so
both themes apply; every state is also written out in words and a glyph, so nothing is told by colour alone. A
step's attempts have no times of their own in the run's record, so a retried step shows its attempt count, not
segments. Every text is escaped: step ids are constrained, but error messages and gate texts are tenant data."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from html import escape

from core.i18n import DEFAULT, number, render, when
from schemas.i18n import Text, tr, trn
from schemas.runs import RunPublic, StepOutcome

WIDTH = 1000
LABEL_W = 260
RIGHT_PAD = 28
CHART_X0 = LABEL_W
CHART_W = WIDTH - LABEL_W - RIGHT_PAD
AXIS_H = 30
ROW_H = 40
BAR_H = 16
BOTTOM_PAD = 20
MIN_BAR_W = 3.0
MAX_ID_CHARS = 26
MAX_NOTE_CHARS = 300
NICE_STEPS_S = (0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200)
MAX_TICKS = 6
# What each state reads as, with a glyph so a state is told by shape and word, not only colour.
STATE_WORDS = {
    "succeeded": ("✓", tr("done")),
    "approved": ("✓", tr("approved")),
    "failed": ("✕", tr("failed")),
    "rejected": ("✕", tr("rejected")),
    "cancelled": ("⊘", tr("cancelled")),
    "running": ("▶", tr("running")),
    "waiting": ("‖", tr("waiting at gate")),
    "reused": ("↺", tr("reused")),
    "queued": ("○", tr("queued")),
    "dry_run": ("◌", tr("dry run: nothing sent")),
}
OPEN_STATES = frozenset({"running", "waiting"})
RUN_STATUS_WORDS: dict[str, Text] = {
    "running": tr("running"), "waiting_approval": tr("waiting for approval"), "completed": tr("completed"),
    "failed": tr("failed"), "rejected": tr("rejected"), "cancelled": tr("cancelled"), "refused": tr("refused"),
}  # fmt: skip


@dataclass(frozen=True)
class Row:
    """One step as the picture shows it: its state, its span on the axis and its status line."""

    step_id: str
    state: str
    start: datetime | None
    end: datetime | None
    attempts: int = 0
    note: Text | str = ""


@dataclass(frozen=True)
class Axis:
    start: datetime
    end: datetime

    @property
    def span_s(self) -> float:
        return max((self.end - self.start).total_seconds(), 1e-3)

    def x(self, at: datetime) -> float:
        """The x of an instant, clamped to the chart."""
        share = (at - self.start).total_seconds() / self.span_s
        return CHART_X0 + CHART_W * min(max(share, 0.0), 1.0)


def timeline_svg(run: RunPublic, now: datetime, planned: Sequence[str] = (), tag: str = DEFAULT) -> str:
    """The run's timeline as an inline SVG: a row per step that has an outcome, then a `queued` row per id in
    `planned` (the definition's steps) that has none yet; open bars (running, waiting) reach `now` while the run
    is in flight, the run's close once it closed. Its words are in the language `tag`."""
    rows = step_rows(run, now) + [Row(step_id, "queued", None, None) for step_id in _unstarted(run, planned)]
    axis = axis_for(run, rows, now)
    height = AXIS_H + ROW_H * max(len(rows), 1) + BOTTOM_PAD
    base = f"tl-{_id_safe(run.run_id)}"
    parts = [
        f'<svg class="timeline" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'width="100%" role="img" aria-labelledby="{base}-title {base}-desc" focusable="false">',
        f'<title id="{base}-title">{escape(_title(run, axis, tag))}</title>',
        f'<desc id="{base}-desc">{escape(describe(rows, axis, tag))}</desc>',
        *_axis_parts(axis, height, tag),
        *(_row_parts(row, index, axis, tag) for index, row in enumerate(rows)),
        *_now_marker(run, axis, now, height, tag),
        "</svg>",
    ]
    return "\n".join(parts)


def step_rows(run: RunPublic, now: datetime) -> list[Row]:
    """A row per step outcome, open ones ending at `now` (or at the run's close once it closed)."""
    open_end = run.closed_at or now
    return [_row(outcome, run, open_end) for outcome in run.steps]


def _row(outcome: StepOutcome, run: RunPublic, open_end: datetime) -> Row:
    state = "reused" if outcome.reused_from else outcome.status
    start, end = outcome.started_at, outcome.finished_at
    note: Text | str = ""
    if state == "waiting" and run.waiting is not None and run.waiting.step_id == outcome.step_id:
        start = run.waiting.requested_at
        note = tr("class %(approval_class)s · expires %(when)s UTC", approval_class=run.waiting.approval_class,
                  when=run.waiting.expires_at.isoformat())  # fmt: skip
    if state in OPEN_STATES or (end is None and start is not None):
        end = open_end
    if state == "reused":
        note = tr("from run %(run)s", run=outcome.reused_from or "")
    if outcome.error is not None and state in ("failed", "running"):
        note = f"{outcome.error.type}: {outcome.error.message}"[:MAX_NOTE_CHARS]
    return Row(outcome.step_id, state, start or end, end, outcome.attempts, note)


def axis_for(run: RunPublic, rows: Sequence[Row], now: datetime) -> Axis:
    """From the run's start (or its first step's) to its close, or to `now` while it runs; never empty."""
    starts = [row.start for row in rows if row.start is not None and row.state != "reused"]
    ends = [row.end for row in rows if row.end is not None and row.state != "reused"]
    start = run.started_at or min(starts, default=now)
    end = max([run.closed_at or now, *ends])
    return Axis(start, max(end, start + timedelta(seconds=1)))


def describe(rows: Sequence[Row], axis: Axis, tag: str = DEFAULT) -> str:
    """The picture in words, one sentence per step, for screen readers."""
    sentences = [render(tr("Time axis from 0 to %(end)s.", end=duration(axis.span_s, tag)), tag)]
    for row in rows:
        parts = [render(_state(row.state), tag)]
        if row.start is not None and row.end is not None and row.state != "reused":
            span = tr("from %(start)s for %(length)s", start=duration(_offset(row.start, axis), tag),
                      length=duration(_length(row), tag))  # fmt: skip
            parts.append(render(span, tag))
        if row.attempts > 1:
            parts.append(render(trn("%(num)s attempt", "%(num)s attempts", row.attempts), tag))
        if row.note:
            parts.append(f"({_note(row.note, tag)})")
        sentence = tr("Step %(step)s: %(what)s.", step=row.step_id, what=", ".join(parts))
        sentences.append(render(sentence, tag))
    return " ".join(sentences)


def duration(seconds: float, tag: str = DEFAULT) -> str:
    """A short human duration: < 0.1 s, 0.4 s, 12 s, 2 min 5 s, 1 h 20 min, 3 d 4 h."""
    if 0 < seconds < 0.05:
        return render(tr("< %(n)s s", n=number(0.1, tag)), tag)
    if seconds < 10:
        return render(tr("%(n)s s", n=number(round(seconds, 1), tag)), tag)
    if seconds < 60:
        return render(tr("%(n)s s", n=number(round(seconds), tag)), tag)
    for unit_s, sub_s in ((86400, 3600), (3600, 60), (60, 1)):
        if seconds >= unit_s:
            whole, rest = divmod(int(seconds), unit_s)
            return _unit(unit_s, whole, tag) + (" " + _unit(sub_s, rest // sub_s, tag) if rest // sub_s else "")
    return render(tr("%(n)s s", n=number(round(seconds), tag)), tag)


def _unit(unit_s: int, amount: int, tag: str) -> str:
    texts = {86400: tr("%(n)s d", n=amount), 3600: tr("%(n)s h", n=amount), 60: tr("%(n)s min", n=amount)}
    return render(texts.get(unit_s, tr("%(n)s s", n=amount)), tag)


def _state(state: str) -> Text | str:
    found = STATE_WORDS.get(state)
    return found[1] if found else state


def _state_line(state: str, tag: str) -> str:
    found = STATE_WORDS.get(state)
    return f"{found[0]} {render(found[1], tag)}" if found else state


def _note(note: Text | str, tag: str) -> str:
    """A row's note in `tag`: a gate's expiry is an instant, written as readers of `tag` write one."""
    if isinstance(note, Text) and "when" in note.params:
        instant = datetime.fromisoformat(str(note.params["when"]))
        note = note.model_copy(update={"params": {**note.params, "when": when(instant, tag, "short")}})
    return render(note, tag)


def tick_step(span_s: float) -> float:
    """The smallest nice tick interval that puts at most MAX_TICKS intervals on the axis."""
    for step in NICE_STEPS_S:
        if span_s / step <= MAX_TICKS:
            return step
    return 86400 * max(1, round(span_s / 86400 / MAX_TICKS + 0.5))


def _axis_parts(axis: Axis, height: int, tag: str) -> list[str]:
    step = tick_step(axis.span_s)
    parts = [f'<line class="tl-axis" x1="{CHART_X0}" y1="{AXIS_H - 6}" x2="{CHART_X0 + CHART_W}" y2="{AXIS_H - 6}"/>']
    count = int(axis.span_s // step)
    for index in range(count + 1):
        x = round(CHART_X0 + CHART_W * (index * step) / axis.span_s, 2)
        anchor = "end" if x > CHART_X0 + CHART_W - 20 else ("start" if index == 0 else "middle")
        parts.append(f'<line class="tl-grid" x1="{x}" y1="{AXIS_H - 6}" x2="{x}" y2="{height - BOTTOM_PAD}"/>')
        label = escape(duration(index * step, tag))
        parts.append(f'<text class="tl-tick" x="{x}" y="{AXIS_H - 12}" text-anchor="{anchor}">{label}</text>')
    return parts


def _row_parts(row: Row, index: int, axis: Axis, tag: str) -> str:
    top = AXIS_H + index * ROW_H
    shown_id = row.step_id if len(row.step_id) <= MAX_ID_CHARS else row.step_id[: MAX_ID_CHARS - 1] + "…"
    status = _state_line(row.state, tag)
    if row.start is not None and row.end is not None and row.state != "reused":
        status += f" · {duration(_length(row), tag)}"
    if row.attempts > 1:
        status += " · " + render(trn("%(num)s attempt", "%(num)s attempts", row.attempts), tag)
    label = (
        f'<text class="tl-label" x="8" y="{top + 16}">{escape(shown_id)}<title>{escape(row.step_id)}</title></text>'
        f'<text class="tl-status tl-status-{row.state}" x="8" y="{top + 32}">{escape(status)}</text>'
    )
    return f'<g class="tl-row tl-{row.state}" data-step="{escape(row.step_id)}">{label}{_bar(row, top, axis, tag)}</g>'


def _bar(row: Row, top: int, axis: Axis, tag: str) -> str:
    """The step's bar (open-ended for running and waiting steps), a baseline for a queued one."""
    y = top + (ROW_H - BAR_H) / 2
    if row.start is None or row.end is None:
        mid = top + ROW_H / 2
        return f'<line class="tl-queued-line" x1="{CHART_X0}" y1="{mid}" x2="{CHART_X0 + CHART_W}" y2="{mid}"/>'
    x = axis.x(row.start)
    width = max(axis.x(row.end) - x, MIN_BAR_W)
    note = f"<title>{escape(_note(row.note, tag))}</title>" if row.note else ""
    bar = (
        f'<rect class="tl-bar tl-bar-{row.state}" data-step="{escape(row.step_id)}" x="{x:.2f}" y="{y:.2f}" '
        f'width="{width:.2f}" height="{BAR_H}" rx="3">{note}</rect>'
    )
    if row.state in OPEN_STATES:  # an open end: an arrow past the bar says "still going"
        tip = x + width
        bar += f'<path class="tl-open-end tl-bar-{row.state}" d="M{tip:.2f} {y:.2f} l7 {BAR_H / 2} l-7 {BAR_H / 2} z"/>'
    return bar


def _now_marker(run: RunPublic, axis: Axis, now: datetime, height: int, tag: str) -> list[str]:
    if run.closed_at is not None:
        return []
    x = axis.x(now)
    return [
        f'<line class="tl-now" x1="{x:.2f}" y1="{AXIS_H - 6}" x2="{x:.2f}" y2="{height - BOTTOM_PAD + 2}"/>',
        f'<text class="tl-now-label" x="{x - 4:.2f}" y="{height - 5}" text-anchor="end">{escape(render(tr("now"), tag))}</text>',
    ]


def _title(run: RunPublic, axis: Axis, tag: str) -> str:
    title = trn("Timeline of run %(run)s: %(num)s step over %(span)s, %(status)s",
                "Timeline of run %(run)s: %(num)s steps over %(span)s, %(status)s", len(run.steps), run=run.run_id,
                span=duration(axis.span_s, tag), status=render(RUN_STATUS_WORDS.get(run.status, run.status), tag))  # fmt: skip
    return render(title, tag)


def _unstarted(run: RunPublic, planned: Sequence[str]) -> list[str]:
    if run.closed_at is not None:
        return []  # a closed run's steps without an outcome never ran: they are not queued
    seen = {outcome.step_id for outcome in run.steps}
    return [step_id for step_id in planned if step_id not in seen]


def _offset(at: datetime, axis: Axis) -> float:
    return max((at - axis.start).total_seconds(), 0.0)


def _length(row: Row) -> float:
    assert row.start is not None and row.end is not None
    return max((row.end - row.start).total_seconds(), 0.0)


def _id_safe(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in text)[:80]
