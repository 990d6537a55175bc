"""Owners in Chromium (issue 31): on a server with an access token, a second browser (another
owner: its own client cookie) watches the first browser's run — status and charts — with Pause,
Step, Stop and the live fields disabled and the reason shown, while the first browser steers it;
the runs page names each run's owner and "only mine" leaves the other's runs out; axe-core finds
nothing wrong with the dashboard in that state. Uploads too: the runs page names an upload's
owner and disables the Delete of someone else's with the reason; an owner past their limit of
uploads is told on the dashboard which of theirs to delete."""

from __future__ import annotations

from typing import Any

import pytest
from browser_helpers import open_dashboard, wait_status
from test_accessibility import axe_source, violations

TOKEN = "owners-test-token"
LIVE = ("lr", "batch_size", "l1", "momentum", "weight_decay", "epochs_per_second")
STEERING = ("#pause", "#step", "#stop")


@pytest.fixture
def live_server(make_live_server: Any) -> Any:
    """The page fixture's server, with an access token (so runs have owners); one upload each."""
    return make_live_server({"ACCESS_TOKEN": TOKEN, "MAX_UPLOADS_PER_OWNER": 1})


def live_controls_disabled(page: Any) -> list[bool]:
    """Whether each input/select of the live fields that the form shows is disabled."""
    return page.evaluate(
        """names => names.flatMap(name => [...document.querySelectorAll(
             `[data-field="${name}"]:not([hidden]) :is(input, select)`)].map(c => c.disabled))""",
        list(LIVE),
    )


def test_another_owner_watches_a_run_but_cannot_steer_it(
    page: Any, browser: Any, live_server: Any
) -> None:
    open_dashboard(page, f"/fit/sin?token={TOKEN}&epochs_per_second=20", full_speed=False)
    page.fill("#epochs", "100000")
    page.click("#train")
    wait_status(page, "running")
    run_id = page.evaluate("window.studio.state.runId")

    other = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=live_server.url)
    errors: list[str] = []
    try:
        theirs = other.new_page()
        theirs.on("pageerror", lambda error: errors.append(str(error)))
        theirs.set_default_timeout(20_000)
        theirs.goto(f"/fit/sin?run={run_id}&token={TOKEN}")  # its own cookie: another owner
        theirs.wait_for_function("window.studio?.state.haveSnapshot")
        wait_status(theirs, "running")  # it watches: status and charts follow the run
        theirs.wait_for_function("document.getElementById('loss-chart').data[0].x.length > 0")
        note = theirs.locator("#owner-note")
        note.wait_for(state="visible")
        assert "can steer this run" in note.inner_text() and "browser " in note.inner_text()
        for selector in STEERING:
            assert theirs.locator(selector).is_disabled(), selector
        locked = live_controls_disabled(theirs)
        assert locked and all(locked), locked
        theirs.keyboard.press("Space")  # the shortcut is refused too: the run keeps running
        assert theirs.evaluate("window.studio.state.status") == "running"
        assert violations(theirs) == []
        theirs.emulate_media(color_scheme="dark")
        assert violations(theirs) == []

        # the owner's own page steers it
        assert not page.locator("#pause").is_disabled() and not page.locator("#stop").is_disabled()
        assert page.locator("#owner-note").is_hidden()
        unlocked = live_controls_disabled(page)
        assert unlocked and not any(unlocked), unlocked

        # the runs page: the owner's name, and "only mine" leaves the first browser's run out
        theirs.goto("/runs")
        row = theirs.locator(f"tr[data-run-id='{run_id}']")
        row.wait_for()
        owner = row.locator(".run-owner").inner_text()
        assert owner.startswith("browser ") and "(you)" not in owner
        assert row.locator(".delete-run").is_disabled()  # only its owner deletes or renames it
        assert row.locator(".run-name").get_attribute("readonly") is not None
        theirs.check("#filter-mine")
        row.wait_for(state="detached")
        theirs.uncheck("#filter-mine")
        row.wait_for()
        assert errors == []
    finally:
        other.close()
    page.goto("/runs")
    mine = page.locator(f"tr[data-run-id='{run_id}']")
    mine.wait_for()
    assert "(you)" in mine.locator(".run-owner").inner_text()
    assert not mine.locator(".delete-run").is_disabled()
    page.check("#filter-mine")
    assert mine.is_visible()  # still listed: it is the first browser's own


UPLOAD = """async csv => {
  const form = new FormData();
  form.append("file", new Blob([csv], {type: "text/csv"}), "first-browser.csv");
  const answer = await fetch("/api/datasets", {method: "POST", body: form});
  return {status: answer.status, id: (await answer.json()).id};
}"""


def test_another_owners_upload_is_listed_with_its_delete_disabled(
    page: Any, browser: Any, live_server: Any, problems: Any, tmp_path: Any
) -> None:
    problems.allow_console(r"status of 429")  # the browser logs the refused upload itself
    open_dashboard(page, f"/fit/sin?token={TOKEN}")
    csv = "x,target\n" + "".join(f"{k / 10},{k * k / 100}\n" for k in range(20))
    uploaded = page.evaluate(UPLOAD, csv)  # the first browser's upload (its client cookie)
    assert uploaded["status"] == 201, uploaded
    (tmp_path / "second.csv").write_text(csv)
    page.set_input_files("#upload", str(tmp_path / "second.csv"))  # past its limit of one
    error = page.locator("#error-file")
    error.wait_for(state="visible")
    assert "delete one of yours" in error.inner_text() and "first-browser.csv" in error.inner_text()

    other = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=live_server.url)
    try:
        theirs = other.new_page()
        theirs.set_default_timeout(20_000)
        theirs.goto(f"/runs?token={TOKEN}")  # its own cookie: another owner
        row = theirs.locator(f"#uploads-body tr[data-id='{uploaded['id']}']")
        row.wait_for()
        owner = row.locator(".upload-owner").inner_text()
        assert owner.startswith("browser ") and "(you)" not in owner
        delete = row.locator(".delete-upload")
        assert delete.is_disabled()
        assert delete.get_attribute("title").startswith(f"Only {owner} can delete this upload")
        theirs.add_script_tag(content=axe_source())  # the uploads table: axe-clean
        assert theirs.evaluate(
            """() => axe.run({include: ['#uploads-table']}, {resultTypes: ['violations']})
                 .then(r => r.violations.map(v => v.id))"""
        ) == []
    finally:
        other.close()
    page.goto("/runs")
    mine = page.locator(f"#uploads-body tr[data-id='{uploaded['id']}']")
    mine.wait_for()
    assert "(you)" in mine.locator(".upload-owner").inner_text()
    assert "yours: 1 of at most 1" in page.locator("#uploads-summary").inner_text()
    assert not mine.locator(".delete-upload").is_disabled()
    page.once("dialog", lambda dialog: dialog.accept())
    mine.locator(".delete-upload").click()  # its owner deletes it
    mine.wait_for(state="detached")


def test_a_student_names_themselves_on_the_runs_page_and_others_see_the_name(
    page: Any, browser: Any, live_server: Any
) -> None:
    open_dashboard(page, f"/fit/sin?token={TOKEN}&epochs_per_second=20", full_speed=False)
    page.fill("#epochs", "100000")
    page.click("#train")
    wait_status(page, "running")
    run_id = page.evaluate("window.studio.state.runId")
    page.goto("/runs")
    page.locator(f"tr[data-run-id='{run_id}'] .run-owner").wait_for()
    # the form is filled from GET /api/me once the page has loaded: how you are shown now
    page.wait_for_function("document.getElementById('my-name').placeholder.startsWith('browser ')")
    page.fill("#my-name", "Ada")
    page.click("#my-name-form button[type=submit]")
    page.wait_for_function(
        f"document.querySelector(\"tr[data-run-id='{run_id}'] .run-owner\")"
        ".textContent === 'Ada (you)'"
    )
    assert "Ada" in page.inner_text("#my-name-note")
    assert violations(page) == []

    other = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=live_server.url)
    try:
        theirs = other.new_page()
        theirs.set_default_timeout(20_000)
        theirs.goto(f"/runs?token={TOKEN}")
        owner = theirs.locator(f"tr[data-run-id='{run_id}'] .run-owner")
        owner.wait_for()
        assert owner.inner_text() == "Ada"
        theirs.fill("#my-name", "ada")  # hers: the server's reason is shown at the field
        theirs.click("#my-name-form button[type=submit]")
        theirs.wait_for_function(
            "document.getElementById('my-name').getAttribute('aria-invalid') === 'true'"
        )
        assert "another owner's name" in theirs.inner_text("#my-name-note")
        theirs.goto(f"/fit/sin?run={run_id}")
        note = theirs.locator("#owner-note")
        note.wait_for(state="visible")
        assert "Ada" in note.inner_text()
    finally:
        other.close()
        page.goto(f"/fit/sin?run={run_id}")
        page.wait_for_function("window.studio?.state.haveSnapshot")
        page.click("#stop")
