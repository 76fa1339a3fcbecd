"""The visual editor in Chromium: a workflow built by drag and drop with a pinned error fixed, rewiring undone and
redone, the JSON tab round-tripping the graph, keyboard-only creation, and no serious accessibility violations."""

import json
import re

from playwright.sync_api import Dialog, Locator, Page, expect

from tests.fakes.smtp import SmtpSink
from tests.fakes.target import TargetServer
from tests.web.browser.conftest import check_page, shot
from tests.web.browser.test_journeys import sign_in_by_link, tenant_with_admin

MAX_TABS = 80


def open_editor(page: Page, live_url: str, sink: SmtpSink) -> list[str]:
    """Signs a new tenant's admin in and opens a new workflow in the editor; answers the page's errors as they come
    (console errors, uncaught exceptions, answers of 400 and above)."""
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("response", lambda answer: errors.append(f"{answer.status} {answer.url}") if answer.status >= 400 else None)
    _tenant, email = tenant_with_admin(live_url, sink)
    sign_in_by_link(page, sink, email)
    page.goto("/app/workflows/new")
    expect(page.locator("#wf-editor.is-ready")).to_be_visible()
    return errors


def node(page: Page, index: int) -> Locator:
    return page.locator(f'.wf-node-item[data-index="{index}"]')


def drag(source: Locator, target: Locator) -> None:
    """Drags with the mouse, in small moves, as a hand would; the canvas is centred first so both ends are in view
    (a drop outside the viewport never lands), after the validator's answer has redrawn the graph."""
    checked(source.page)
    source.page.locator("#wf-canvas").evaluate("canvas => canvas.scrollIntoView({block: 'center'})")
    start, end = source.bounding_box(), target.bounding_box()
    assert start and end
    mouse = source.page.mouse
    mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
    mouse.down()
    mouse.move(start["x"] + start["width"] / 2 + 8, start["y"] + start["height"] / 2 + 8, steps=4)
    mouse.move(end["x"] + end["width"] / 2, end["y"] + end["height"] / 2, steps=10)
    mouse.up()


def checked(page: Page) -> None:
    """Waits for the validator's answer to the definition as it is now."""
    expect(page.locator("#wf-check")).not_to_have_text("Checking…")


def test_build_log_http_condition_by_drag_and_drop_and_fix_a_pinned_error(
    page: Page, live_url: str, smtp_sink: SmtpSink, target_server: TargetServer
) -> None:
    errors = open_editor(page, live_url, smtp_sink)

    drag(page.locator('[data-step-type="log"]'), page.locator("#wf-canvas"))
    page.get_by_label("Message (required)").fill("Checking the target")
    drag(page.locator('[data-step-type="http_request"]'), page.locator('.wf-slot[data-slot="1"]'))
    page.get_by_label("URL (required)").fill("target.test/json")
    checked(page)
    url_message = page.locator("#wf-step-url-msg")
    expect(url_message).to_contain_text("must be an absolute http(s):// URL")
    expect(page.locator("#wf-step-url")).to_have_attribute("aria-invalid", "true")
    expect(node(page, 1).locator(".wf-badge")).to_have_text("1 error")
    shot(page, "editor-01-pinned-error")
    page.get_by_label("URL (required)").fill(f"{target_server.url}/json")
    checked(page)
    expect(url_message).to_have_text("Warning: `url` uses plain http://, which is unencrypted; prefer https://.")
    expect(page.locator("#wf-step-url")).not_to_have_attribute("aria-invalid", "true")
    drag(page.locator('[data-step-type="condition"]'), page.locator('.wf-slot[data-slot="2"]'))
    page.get_by_label("Expression (required)").fill("steps.http_request_1.status == 200")
    checked(page)

    expect(node(page, 1).locator(".wf-badge")).to_have_text("1 warning")
    expect(page.locator("#wf-check")).to_have_text("2 warnings")  # plain http://, and then = else
    expect(page.locator(".wf-node-item .wf-node-type")).to_have_text(["Log", "HTTP request", "Condition"])
    assert page.locator("path.wf-edge-then").count() == 1 and page.locator("path.wf-edge-else").count() == 1
    check_page(page, "editor-02-three-steps")

    # Rewire by dragging the HTTP step's `next` onto End: the condition can no longer run.
    drag(node(page, 1).locator(".wf-port-next"), page.locator(".wf-end"))
    checked(page)
    expect(node(page, 2).locator(".wf-badge")).to_contain_text("1 error")
    page.keyboard.press("Control+z")
    checked(page)
    expect(node(page, 2).locator(".wf-badge")).not_to_contain_text("error")
    page.get_by_role("button", name="Redo").click()
    checked(page)
    expect(node(page, 2).locator(".wf-badge")).to_contain_text("1 error")
    page.get_by_role("button", name="Undo").click()
    checked(page)

    page.get_by_role("button", name="Save").click()
    expect(page.locator("#wf-save-note")).to_contain_text("Saved version 1.")
    expect(page).to_have_url(re.compile(r"/app/workflows/[0-9a-f-]+/edit$"))
    shot(page, "editor-03-saved")
    node(page, 0).locator(".wf-node").click()
    page.get_by_label("Message (required)").fill("Checking the target again")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#wf-save-note")).to_contain_text("Saved version 2.")
    page.get_by_role("link", name="Open the workflow's page").click()
    expect(page.get_by_role("heading", name="Changes from v1 to v2")).to_be_visible()
    expect(page.locator(".diff-add")).to_contain_text('"message": "Checking the target again"')
    check_page(page, "editor-08-workflow-page")
    page.get_by_role("button", name="Create webhook").click()
    expect(page.get_by_test_id("hook-url")).to_contain_text("/api/hooks/whk_")
    expect(page.get_by_test_id("hook-secret")).to_contain_text("whsec_")
    check_page(page, "editor-08b-webhook-once")
    # Run what was built, and watch its timeline until every step is done.
    page.get_by_role("button", name="Start a run of v2").click()
    expect(page.get_by_role("img", name=re.compile("Timeline of run"))).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("completed", timeout=20_000)
    closed = page.locator("dt", has_text="Closed").locator("xpath=following-sibling::dd")
    expect(closed).to_contain_text("UTC", timeout=10_000)  # the page polls on until the execution has closed
    statuses = page.locator("svg.timeline .tl-status").all_text_contents()
    assert [status.split(" · ")[0] for status in statuses] == ["✓ done"] * 3
    check_page(page, "editor-10-built-workflow-ran")
    page.goto("/app/workflows?q=untitled")
    expect(page.get_by_role("link", name="Untitled workflow", exact=True)).to_be_visible()
    check_page(page, "editor-09-workflow-list")
    assert errors == []


def test_the_json_tab_round_trips_and_edits_redraw_the_graph(
    page: Page, live_url: str, smtp_sink: SmtpSink, target_server: TargetServer
) -> None:
    errors = open_editor(page, live_url, smtp_sink)
    page.locator('[data-step-type="log"]').drag_to(page.locator("#wf-canvas"))
    page.get_by_label("Message (required)").fill("héllo")
    page.get_by_role("tab", name="JSON").click()
    text = page.locator("#wf-json").input_value()

    assert json.dumps(json.loads(text), indent=2, ensure_ascii=False) == text
    assert json.loads(text) == {
        "name": "Untitled workflow",
        "steps": [{"id": "log_1", "type": "log", "level": "info", "message": "héllo"}],
    }

    edited = json.loads(text)
    edited["steps"].append({"id": "wait", "type": "delay", "seconds": 5})
    page.locator("#wf-json").fill(json.dumps(edited, indent=2, ensure_ascii=False))
    page.locator("#wf-json").press("End")
    page.get_by_role("tab", name="Graph").click()
    expect(page.locator(".wf-node-item .wf-node-id")).to_have_text(["log_1", "wait"])
    page.get_by_role("tab", name="JSON").click()
    assert page.locator("#wf-json").input_value() == json.dumps(edited, indent=2, ensure_ascii=False)
    page.locator("#wf-json").fill("{ not json")
    expect(page.locator("#wf-json-error")).to_contain_text("Not valid JSON")
    page.get_by_role("tab", name="Graph").click()
    expect(page.locator(".wf-node-item .wf-node-id")).to_have_text(["log_1", "wait"])
    drag(node(page, 1), page.locator('.wf-slot[data-slot="0"]'))  # reorder: the delay first
    expect(page.locator(".wf-node-item .wf-node-id")).to_have_text(["wait", "log_1"])
    page.get_by_role("button", name="Undo").click()
    expect(page.locator(".wf-node-item .wf-node-id")).to_have_text(["log_1", "wait"])
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#wf-save-note")).to_contain_text("Saved version 1.")

    page.reload()
    expect(page.locator("#wf-editor.is-ready")).to_be_visible()
    page.get_by_role("tab", name="JSON").click()
    stored = page.locator("#wf-json").input_value()
    assert json.dumps(json.loads(stored), indent=2, ensure_ascii=False) == stored
    assert [s["id"] for s in json.loads(stored)["steps"]] == ["log_1", "wait"]
    assert errors == []


def tab_to(page: Page, selector: str, backwards: bool = False) -> None:
    """Presses Tab (or Shift+Tab) until the element matching `selector` has the focus."""
    target = page.locator(selector)
    for _ in range(MAX_TABS):
        if target.evaluate("e => e === document.activeElement"):
            return
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
    raise AssertionError(f"Tab never reached {selector}")


def test_keyboard_only_creation_of_a_two_step_workflow(
    page: Page, live_url: str, smtp_sink: SmtpSink, target_server: TargetServer
) -> None:
    errors = open_editor(page, live_url, smtp_sink)

    tab_to(page, '[data-step-type="log"]')
    page.keyboard.press("Enter")
    tab_to(page, "#wf-step-message")
    page.keyboard.type("Order received")
    tab_to(page, '[data-step-type="http_request"]', backwards=True)
    page.keyboard.press("Enter")
    tab_to(page, "#wf-step-url")
    page.keyboard.type(f"{target_server.url}/echo")
    tab_to(page, "#wf-step-method")
    page.keyboard.press("Home")  # GET, then the next one down: POST
    page.keyboard.press("ArrowDown")
    tab_to(page, "#wf-deselect", backwards=True)
    page.keyboard.press("Enter")
    expect(page.locator("#wf-def-name")).to_be_focused()
    page.keyboard.press("Control+a")
    page.keyboard.type("Notify on order")
    checked(page)
    tab_to(page, '[data-action="save"]', backwards=True)
    page.keyboard.press("Enter")

    expect(page.locator("#wf-save-note")).to_contain_text("Saved version 1.")
    expect(page.locator(".wf-node-item .wf-node-summary")).to_have_text(
        ["Order received", f"POST {target_server.url}/echo"]
    )
    expect(page.locator("h1")).to_have_text("Edit Notify on order")
    check_page(page, "editor-04-keyboard")
    assert errors == []


def test_the_editor_and_workflow_list_have_no_serious_violations_in_dark_mode_and_on_a_phone(
    page: Page, live_url: str, smtp_sink: SmtpSink
) -> None:
    page.emulate_media(color_scheme="dark")
    errors = open_editor(page, live_url, smtp_sink)
    for kind in ("log", "condition", "http_request", "email", "transform", "approval", "delay", "ai"):
        page.locator(f'[data-step-type="{kind}"]').click()
    checked(page)
    node(page, 1).locator(".wf-node").click()
    check_page(page, "editor-05-dark-all-types")
    page.get_by_role("tab", name="JSON").click()
    check_page(page, "editor-06-dark-json")

    page.get_by_role("tab", name="Graph").click()
    page.locator("#wf-delete").click()
    page.keyboard.press("Control+z")
    expect(page.locator(".wf-node-item")).to_have_count(8)
    page.set_viewport_size({"width": 390, "height": 844})
    check_page(page, "editor-07-dark-phone")
    errors_before = list(errors)
    page.goto("/app/workflows")
    check_page(page, "editor-07b-dark-phone-list")
    assert errors_before == []


def test_leaving_with_unsaved_changes_asks_first(page: Page, live_url: str, smtp_sink: SmtpSink) -> None:
    open_editor(page, live_url, smtp_sink)
    asked: list[str] = []

    def answer(dialog: Dialog) -> None:
        asked.append(dialog.type)
        dialog.accept()

    page.on("dialog", answer)

    page.locator('[data-step-type="log"]').click()
    checked(page)
    page.close(run_before_unload=True)
    page.wait_for_event("close")

    assert asked == ["beforeunload"]
