"""Messages count things in the number the count takes."""

from app.config.wording import counted


def test_one_takes_the_singular_and_others_the_plural():
    assert counted(1, "data row") == "1 data row"
    assert counted(0, "data row") == "0 data rows"
    assert counted(3, "upload is", "uploads are") == "3 uploads are"
    assert counted(1, "upload is", "uploads are") == "1 upload is"


def test_the_pages_count_the_same_way():
    from js_modules import run_js

    written = run_js(
        """const { counted } = await importModule('/static/js/format.js');
        return [counted(1, 'row'), counted(32, 'row'), counted(1, 'epoch'), counted(0, 'step')];"""
    )
    assert written == ["1 row", "32 rows", "1 epoch", "0 steps"]
