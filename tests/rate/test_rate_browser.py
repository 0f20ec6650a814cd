"""The rating sheet in a real browser: Playwright drives Debian's chromium (headless) over the exported
sheet.html opened from disk, as a rater would open it offline. The test fills the form, reloads the page
(the answers come back from localStorage), downloads the CSV and imports it with a second rater's file:
the numbers are those of the known ratings (tests/rate/test_rate_import.py).

Needs the `chromium` Debian package (scripts/install-system-deps.sh); never `playwright install`.
"""

from __future__ import annotations

import pytest
from ratekit import MODELS, SCORES, write_ratings

from socratic.rate.result import RatingResult
from socratic.rate.sheet import RatingKey

pytestmark = pytest.mark.browser

NOTE = 'asks, but "why" of what? 4, not 5'


def test_a_rater_fills_the_sheet_offline_and_the_download_imports(browser, rate, evaluation, tmp_path):
    sheet = tmp_path / "sheet"
    assert rate("rate", "export", evaluation, "-o", sheet, "--seed", "5")[0] == 0
    key = RatingKey.read(sheet / "key.json")
    sources = list(MODELS)
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto((sheet / "sheet.html").as_uri())
    assert page.locator("#progress").text_content() == "0 of 12 replies rated"
    assert page.locator("table.scale tr").count() == 5

    # Half the form, then a reload: the answers are kept in the browser.
    cells = [(item, letter, SCORES["ann"][item.dialogue_id][sources.index(source)])
             for item in key.items for letter, source in sorted(item.letters.items())]
    page.fill("#rater", "Ann Lee")
    for item, letter, score in cells[:6]:
        page.check(f'input[name="score-{item.item}-{letter}"][value="{score}"]')
    page.fill(f'input[name="note-{cells[0][0].item}-{cells[0][1]}"]', NOTE)
    page.reload()
    assert page.locator("#rater").input_value() == "Ann Lee"
    assert page.locator("#progress").text_content() == "6 of 12 replies rated"
    assert page.locator(f'input[name="note-{cells[0][0].item}-{cells[0][1]}"]').input_value() == NOTE

    # A download before the end says what is missing; the final one holds every reply.
    with page.expect_download():
        page.click("#download")
    assert "6 replies still unrated" in page.locator("#message").text_content()
    for item, letter, score in cells[6:]:
        page.check(f'input[name="score-{item.item}-{letter}"][value="{score}"]')
    with page.expect_download() as info:
        page.click("#download")
    download = info.value
    assert download.suggested_filename == "ratings-Ann-Lee.csv"
    ann = sheet / download.suggested_filename
    download.save_as(ann)
    assert "thank you" in page.locator("#message").text_content()
    page.screenshot(path=str(tmp_path / "sheet.png"), full_page=True)
    context.close()
    assert all(url.startswith(("file:", "blob:", "data:")) for url in requests), requests

    bo = write_ratings(sheet / "ratings-bo.csv", key, "bo", SCORES["bo"])
    code, _, err = rate("rate", "import", ann, bo, "--bootstrap", "200")
    assert code == 0, err
    result = RatingResult.read(sheet / "ratings.json")
    assert result.raters == ["Ann Lee", "bo"]
    assert [result.source(s).mean.mean for s in sources] == pytest.approx([1.25, 2.625, 4.0])
    assert result.rater_pairs[0].kappa == pytest.approx(80 / 119)
    assert result.win("zztuned", "zzbase").rate.mean == pytest.approx(0.9375)
    first = cells[0]
    line = next(row for row in ann.read_text(encoding="utf-8").splitlines()[1:]
                if row.split(",")[2:4] == [str(first[0].item), first[1]])
    assert line.endswith(',"asks, but ""why"" of what? 4, not 5"')
    noted = [r for r in result.ratings if r.note]
    assert [(r.rater, r.item, r.note) for r in noted] == [("Ann Lee", first[0].item, NOTE)]
    assert noted[0].source == first[0].letters[first[1]] and noted[0].dialogue_id == first[0].dialogue_id


def test_the_download_asks_for_the_raters_name_first(browser, rate, evaluation, tmp_path):
    assert rate("rate", "export", evaluation, "-o", tmp_path / "sheet")[0] == 0
    page = browser.new_page()
    downloads = []
    page.on("download", lambda download: downloads.append(download))
    page.goto((tmp_path / "sheet" / "sheet.html").as_uri())
    page.click("#download")
    assert "Write your name first" in page.locator("#message").text_content()
    page.wait_for_timeout(500)  # a download would have started by now
    assert downloads == []
