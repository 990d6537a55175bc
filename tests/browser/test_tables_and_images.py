"""The dashboard with tables of many columns and with images (issue 16): upload a table, pick
its target in the page, train, see the confusion matrix and the slice view; digits shows the
test images with their predicted labels and the first layer's weights."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from browser_helpers import get_json, open_dashboard, wait_status
from mnist_files import synthetic_mnist

SPECIES = ("setosa", "versicolor", "virginica")


def iris_like(path: Path, rows: int = 240) -> Path:
    rng = np.random.default_rng(0)
    centres = np.array([[5.0, 3.4, 1.5, 0.2], [5.9, 2.8, 4.3, 1.3], [6.6, 3.0, 5.6, 2.0]])
    lines = ["sepal length,sepal width,petal length,petal width,colour,species"]
    for index in range(rows):
        k = index % 3
        values = centres[k] + rng.normal(0, 1, 4) * np.array([0.35, 0.35, 0.35, 0.2])
        colour = ("red", "green", "blue")[rng.integers(3)]
        lines.append(",".join(f"{v:.2f}" for v in values) + f",{colour},{SPECIES[k]}")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_table_uploads_shows_its_rows_trains_with_the_picked_target(
    page: Any, live_server: Any, tmp_path: Path
) -> None:
    open_dashboard(page, "/fit/sin")
    page.set_input_files("#upload", str(iris_like(tmp_path / "iris.csv")))
    page.wait_for_function("location.pathname.startsWith('/fit/dataset:')")
    preview = page.locator("#table-preview")
    preview.wait_for(state="visible")
    headers = page.locator("#table-rows th").all_inner_texts()
    assert headers[0].startswith("sepal length") and "number" in headers[0]
    assert "category · 3" in headers[4]
    assert page.locator("#table-rows tbody tr").count() == 10
    assert page.input_value("#target_column") == "species"

    # Picked in the page: the colour is the target, the species one of the features.
    page.select_option("#target_column", "colour")
    assert page.locator("#feature-columns input").count() == 5
    page.fill("#epochs", "5")
    page.click("#train")
    page.wait_for_function("window.studio?.state.runId && window.studio?.state.haveSnapshot")
    run = get_json(live_server, f"/api/runs/{page.evaluate('window.studio.state.runId')}")
    assert run["config"]["target_column"] == "colour"
    assert "species" in run["config"]["feature_columns"]
    wait_status(page, "finished")

    # Back to the species, without the colour: trains well, the confusion matrix and the slice.
    page.select_option("#target_column", "species")
    page.uncheck("#feature-columns input[value='colour']")
    page.fill("#epochs", "60")
    first = page.evaluate("window.studio.state.runId")
    page.click("#train")
    page.wait_for_function(
        "id => window.studio.state.runId && window.studio.state.runId !== id"
        " && window.studio.state.haveSnapshot", arg=first
    )  # the new run's, not the first one's
    wait_status(page, "finished")
    run = get_json(live_server, f"/api/runs/{page.evaluate('window.studio.state.runId')}")
    assert run["config"]["feature_columns"] == [
        "sepal length", "sepal width", "petal length", "petal width"]  # fmt: skip
    assert run["test_acc"] >= 0.9
    matrix = page.locator("#confusion-matrix")
    matrix.wait_for(state="visible")
    assert page.locator("#confusion-matrix thead th").all_inner_texts()[1:4] == list(SPECIES)
    page.wait_for_function(
        "[...document.querySelectorAll('#confusion-matrix tbody td:not(.class-accuracy)')]"
        ".reduce((sum, td) => sum + (Number(td.textContent) || 0), 0) === 72"
    )  # 30 % of 240 test rows
    picker = page.locator("#slice-picker")
    assert picker.is_visible()
    assert page.locator("#slice-x option").count() == 4
    names = page.locator("#slice-x option").all_inner_texts()
    assert names[:2] == ["sepal length", "sepal width"]


def test_a_regression_table_shows_predicted_vs_actual(
    page: Any, live_server: Any, tmp_path: Path
) -> None:
    rng = np.random.default_rng(2)
    X = rng.uniform(-2, 2, (300, 3))
    y = X[:, 0] - 0.5 * X[:, 1] + np.sin(X[:, 2])
    path = tmp_path / "prices.csv"
    path.write_text(
        "a,b,c,price\n" + "".join(f"{p:.3f},{q:.3f},{r:.3f},{t:.4f}\n" for (p, q, r), t in zip(
            X, y, strict=True))
    )  # fmt: skip
    open_dashboard(page, "/fit/sin")
    page.set_input_files("#upload", str(path))
    page.wait_for_function("location.pathname.startsWith('/fit/dataset:')")
    # the note names the columns, the projection's colour the value predicted
    assert page.text_content("#upload-status") == "prices.csv: 300 rows, a, b, c → price."
    assert page.text_content("#projection-part h3") == "The test set, projected · predicted value"
    page.fill("#epochs", "80")
    page.click("#train")
    wait_status(page, "finished")
    page.wait_for_function(
        "(() => { const gd = document.getElementById('scatter-view');"
        " return gd && gd.data && gd.data[1].y.length === 90; })()"
    )
    title = page.evaluate("document.getElementById('scatter-view').layout.title.text")
    assert "R² = 0.9" in title


def test_an_uploaded_table_and_its_errors_fit_in_the_sidebar(
    page: Any, live_server: Any, tmp_path: Path, problems: Any
) -> None:
    problems.allow_console(r"status of 400")  # the bad file's answer, as it should be
    page.set_viewport_size({"width": 1024, "height": 768})
    open_dashboard(page, "/fit/sin")
    page.set_input_files("#upload", str(iris_like(tmp_path / "iris.csv")))
    page.locator("#table-preview").wait_for(state="visible")
    overflowing = """() => {
        const side = document.querySelector('.sidebar').getBoundingClientRect();
        return [...document.querySelectorAll('.sidebar form *')]
            .filter(e => e.offsetParent !== null && !e.closest('.table-rows-scroll'))
            .filter(e => e.getBoundingClientRect().right > side.right + 1)
            .map(e => e.id || e.className || e.tagName);
    }"""
    assert page.evaluate(overflowing) == []
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b,c\n" + "1,2,3\n" * 30 + "1,oops-a-long-word-that-is-not-a-number,3\n")
    page.set_input_files("#upload", str(bad))
    page.wait_for_function("document.getElementById('error-file').textContent.includes('line')")
    assert page.evaluate(overflowing) == []


def test_digits_shows_test_images_and_first_layer_weights(page: Any, live_server: Any) -> None:
    open_dashboard(page, "/fit/digits?hidden=32&epochs=40", full_speed=False)
    page.click("#train")
    page.wait_for_function("window.studio?.state.runId && window.studio?.state.haveSnapshot")
    page.locator("#images-part").wait_for(state="visible")
    page.wait_for_function("document.querySelectorAll('#image-grid figure').length === 36")
    page.wait_for_function("document.querySelectorAll('#first-layer figure').length === 32")
    wait_status(page, "finished", timeout=60_000)
    captions = page.locator("#image-grid figcaption").all_inner_texts()
    assert all(text.startswith(("✓", "✗")) for text in captions)
    wrong = page.locator("#image-grid figure.wrong").count()
    assert wrong == sum(text.startswith("✗") for text in captions) and wrong <= 8
    assert page.locator("#confusion-matrix tbody tr").count() == 10


def test_mnist_uploaded_from_the_page_trains_with_its_image_views(
    page: Any, live_server: Any, tmp_path: Path
) -> None:
    files = sorted(str(path) for path in synthetic_mnist(tmp_path).iterdir())
    open_dashboard(page, "/fit/sin")
    page.set_input_files("#upload", files[:3])  # one short: the page says so, nothing is sent
    assert "four IDX files" in page.locator("#error-file").inner_text()
    page.set_input_files("#upload", files)
    page.wait_for_function("location.pathname === '/fit/mnist'")
    assert "ready to train" in page.locator("#upload-status").inner_text()
    assert page.input_value("#task") == "mnist"
    page.fill("#samples", "400")
    page.fill("#epochs", "4")
    page.click("#train")
    wait_status(page, "finished", timeout=60_000)
    page.locator("#images-part").wait_for(state="visible")
    page.wait_for_function("document.querySelectorAll('#image-grid figure').length === 36")
    assert page.locator("#confusion-matrix tbody tr").count() == 10


def test_a_slice_views_axes_are_named_by_the_inputs_it_plots(page: Any) -> None:
    # a fresh user's digits regions read "x" and "y" over two pixels
    open_dashboard(page, "/fit/digits")
    page.wait_for_function("document.querySelector('#fit-view .js-plotly-plot')?.layout")
    titles = """() => { const gd = document.querySelector('#fit-view .js-plotly-plot');
        return [gd.layout.xaxis.title.text, gd.layout.yaxis.title.text]; }"""
    assert page.evaluate(titles) == ["pixel (5, 2)", "pixel (5, 3)"]  # its slice_features
    page.select_option("#slice-x", label="pixel (3, 4)")  # for the next run: the preview stays
    assert page.evaluate(titles) == ["pixel (5, 2)", "pixel (5, 3)"]
    page.fill("#samples", "300")
    page.fill("#epochs", "3")
    page.click("#train")
    wait_status(page, "finished")
    page.wait_for_function(f"({titles})()[0] === 'pixel (3, 4)'")  # the run's slice
    assert page.evaluate(titles) == ["pixel (3, 4)", "pixel (5, 3)"]
    open_dashboard(page, "/fit/saddle")
    page.wait_for_function("document.querySelector('#fit-view .js-plotly-plot')?.layout?.scene")
    scene = page.evaluate("""() => { const gd = document.querySelector('#fit-view .js-plotly-plot');
        return [gd.layout.scene.xaxis.title.text, gd.layout.scene.yaxis.title.text]; }""")
    assert scene == ["x", "y"]  # a task of two inputs: its own names
