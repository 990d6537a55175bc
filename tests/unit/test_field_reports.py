"""Field reports (issue 14): each fault is one member of a kind; these tests try several members.

Kinds: poles between sample points (`find_singularity`), paper notation in expressions, labels
compared by spelling, separators and decimal marks in CSV uploads, the zero-variance guard of
`Standardizer`, and CSV headers whose parsing must stay linear in their width (issue 15).
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.config.expressions import ExpressionError, compile_expression
from app.config.singularities import find_singularity
from app.data.uploads import DatasetError, parse_csv


def _singularity(text: str, domain: list[list[float]]) -> str | None:
    """The message find_singularity refuses `text` on `domain` with, or None if accepted."""
    expression = compile_expression(text, ("x", "y")[: len(domain)])
    try:
        find_singularity(expression, domain)
    except ExpressionError as error:
        return str(error)
    return None


# --- poles and domain errors between sample points ------------------------------------------


@pytest.mark.parametrize(
    ("text", "domain", "message"),
    [
        ("1/x", [[-3, 3]], "1/x is not finite at x = 0 (division by zero)"),
        ("1/(x - 0.3)", [[-3, 3]], "1/(x - 0.3) is not finite at x = 0.3"),
        ("1/(x - 1/3)", [[-3, 3]], "is not finite at x = 0.333333"),
        ("1/x**2", [[-1, 2]], "1/x**2 is not finite at x = 0"),
        ("x**-3 + 1", [[-1, 2]], "not finite at x = 0 (0 to a negative power in x**-3)"),
        ("sin(x)/x", [[-3, 3]], "sin(x)/x is not finite at x = 0"),
        ("1/sin(x)", [[-3, 3]], "1/sin(x) is not finite at x = 0"),
        ("x % (x - 0.7)", [[-1, 1]], "not finite at x = 0.7"),
        ("tan(x)", [[-3, 3]], "tan(x) is not finite at x = -1.5708 (a pole of tan)"),
        ("tan(2*x) + x", [[0, 1]], "not finite at x = 0.785398 (a pole of tan in tan(2*x))"),
        ("log(x**2)", [[-1, 2]], "log(x**2) is not finite at x = 0 (log of 0)"),
        ("log((x - 1/3)**2)", [[-1, 2]], "is not finite at x = 0.333333 (log of 0)"),
        ("sqrt(x**2 - 1e-8)", [[-1, 2]], "is not finite at x = 0 (square root of a negative"),
        ("sqrt(abs(x - 0.5) - 1e-9)", [[-1, 2]], "is not finite at x = 0.5"),
        ("where(x != 0, 1/x, 0)", [[-3, 3]], "is unbounded near x = 0 (division by zero in 1/x)"),
        ("1/(x - y)", [[-1, 1], [-2, 2]], "1/(x - y) is not finite at x = "),
        ("1/(x**2 + y**2)", [[-1, 2], [-1, 2]], "is not finite at x = 0, y = 0"),
        ("1/(x*y - 0.5)", [[-3, 3], [-3, 3]], "not finite at x = "),
        ("log(x**2 + (y - 0.25)**2)", [[-1, 1], [-1, 1]], "not finite at x = 0, y = 0.25"),
        ("tan(x + y)", [[-1, 1], [-1, 1]], "(a pole of tan)"),
    ],
)
def test_a_singularity_between_sample_points_is_refused_with_its_place(text, domain, message):
    refused = _singularity(text, domain)
    assert refused is not None and message in refused, refused


@pytest.mark.parametrize(
    ("text", "domain"),
    [
        ("1/x", [[0.5, 3]]),
        ("1/(x**2 + 1)", [[-3, 3]]),
        ("x/(1 + exp(x))", [[-3, 3]]),
        ("1/sin(x)", [[0.1, 3]]),
        ("1/tan(x)", [[0.1, 1.5]]),
        ("tan(x)", [[-1.5, 1.5]]),
        ("log(1 + x**2)", [[-3, 3]]),
        ("sqrt(sin(x)**2)", [[-3, 3]]),
        ("sqrt(1 - x**2)", [[-1, 1]]),
        ("x**0.5", [[0, 4]]),
        ("where(x == 0, 1, sin(x)/x)", [[-3, 3]]),  # sinc, defined at 0
        ("exp(-1/x**2)", [[-3, 3]]),  # numpy's limit at 0 is 0: finite
        ("arctan(1/x)", [[-3, 3]]),  # a jump, finite on both sides
        ("1/(floor(x) - 0.5)", [[-3, 3]]),  # the denominator jumps over 0, never meets it
        ("1/(x**2 + y**2 + 0.1)", [[-1, 2], [-1, 2]]),
        ("x*y/(1 + x**2)", [[-3, 3], [-3, 3]]),
        ("sin(5*x)*x", [[-3, 3]]),
    ],
)
def test_no_false_alarm_where_nothing_is_singular(text, domain):
    assert _singularity(text, domain) is None


def test_what_the_sampling_grid_finds_keeps_its_message():
    assert _singularity("log(x)", [[-1, 1]]) == "log(x) is not finite at x = -1 (got nan)"


_COEFFICIENT = st.integers(-5, 5).map(float) | st.floats(-3, 3).map(lambda v: round(v, 3))


@st.composite
def _domains(draw: st.DrawFn) -> tuple[float, float]:
    lo = round(draw(st.floats(-5, 4)), 2)
    return lo, round(lo + draw(st.floats(0.5, 6)), 2)


@st.composite
def _numerators(draw: st.DrawFn) -> str:
    a, b, c = draw(_COEFFICIENT), draw(_COEFFICIENT), draw(_COEFFICIENT)
    return f"({a}*x**2 + {b}*x + {c} + 1)"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_domains(), _numerators(), st.floats(0.01, 0.99), st.integers(1, 3), st.booleans())
def test_property_a_pole_inside_the_domain_is_always_refused(domain, top, share, power, factor):
    lo, hi = domain
    pole = lo + share * (hi - lo)
    extra = " * (x**2 + 1)" if factor else ""
    text = f"{top} / ((x - {pole!r})**{power}{extra})"
    assert _singularity(text, [[lo, hi]]) is not None, text


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_domains(), _numerators(), st.floats(0.02, 3), st.booleans(), st.integers(1, 3),
       st.floats(0.01, 2))  # fmt: skip
def test_property_a_denominator_without_a_root_on_the_domain_is_always_accepted(
    domain, top, gap, above, power, lift
):
    lo, hi = domain
    root = hi + gap if above else lo - gap
    text = f"{top} / ((x - {root!r})**{power} * ((x - {lo!r})**2 + {lift!r}))"
    assert _singularity(text, [[lo, hi]]) is None, text


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.floats(-2, 2), st.floats(-2, 2), st.floats(0.05, 0.95), st.floats(0.05, 0.95),
       st.booleans())  # fmt: skip
def test_property_two_inputs_pole_curve_refused_and_root_free_accepted(a, b, sx, sy, pole):
    a, b = round(a, 3) or 1.0, round(b, 3) or 1.0
    px, py = -2 + 4 * sx, -1 + 3 * sy  # a point inside the domain
    domain = [[-2, 2], [-1, 2]]
    if pole:  # the line a*x + b*y = a*px + b*py passes through (px, py)
        text = f"(x*y + 1) / ({a}*x + {b}*y - {a * px + b * py!r})"
        assert _singularity(text, domain) is not None, text
    else:
        text = f"(x*y + 1) / ({abs(a)}*(x - {px!r})**2 + {abs(b)}*(y - {py!r})**2 + 0.05)"
        assert _singularity(text, domain) is None, text


# --- paper notation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "fix", "column"),
    [
        ("2x", "write 2*x", 2),
        ("3.5x + 1", "write 3.5*x", 4),
        ("1e-3x", "write 1e-3*x", 5),
        ("2pi*x", "write 2*pi", 2),
        ("3sin(x)", "write 3*sin(x)", 2),
        ("2(x + 1)", "write 2*(x + 1)", 2),
        ("(x + 1)(x - 1)", "write (x + 1)*(x - 1)", 8),
        ("sin(x)(x + 1)", "write sin(x)*(x + 1)", 7),
        ("(x + 1)x", "write (x + 1)*x", 8),
        ("(x + 1)2", "write (x + 1)*2", 8),
        ("sin x", "write sin(x)", 5),
        ("cos 2", "write cos(2)", 5),
        ("x + exp x", "write exp(x)", 9),
        ("sinx", "write sin(x)", 1),
        ("1 + sin2x", "write sin(2*x)", 5),
        ("|x|", "use abs(x)", 1),
        ("1 + |x - 1|", "use abs(x - 1)", 5),
        ("  2x", "write 2*x", 4),
        ("ln(x)", "write log(...)", 1),
        ("atan(x)", "write arctan(...)", 1),
    ],
)
def test_paper_notation_gets_the_fix_at_its_column(text, fix, column):
    with pytest.raises(ExpressionError) as caught:
        compile_expression(text)
    assert fix in str(caught.value), str(caught.value)
    assert caught.value.column == column and f"column {column}" in str(caught.value)
    assert "invalid" not in str(caught.value)  # not Python's words


@pytest.mark.parametrize(
    ("text", "fix", "column"),
    [("x y", "write x*y", 3), ("xy + 1", "write x*y", 1), ("2 x*y", "write 2*x", 3)],
)
def test_paper_notation_with_two_inputs(text, fix, column):
    with pytest.raises(ExpressionError) as caught:
        compile_expression(text, ("x", "y"))
    assert fix in str(caught.value) and caught.value.column == column, str(caught.value)


def test_a_long_run_of_factors_is_named_short_not_spelled_out():
    """A fresh user typed a long run of x's: the hint spelled out x*x*x*… in full."""
    with pytest.raises(ExpressionError) as caught:
        compile_expression("x" * 150)
    message = str(caught.value)
    assert len(message) < 200 and "150 names run together" in message and "**" in message


@pytest.mark.parametrize(
    "text",
    ["2*x", "1e-3*x + 2.5e2", "0x10 * x", "sin (x)", "(x + 1)*(x - 1)", "-2*x**2", "2**-1 * x",
     "x > 0 and x < 1", "not x", "where(x > 0, 2*x, 0)", "1_000 * x"],
)  # fmt: skip
def test_ordinary_expressions_are_not_mistaken_for_paper_notation(text):
    compile_expression(text)


def test_other_refusals_keep_their_messages():
    cases = [("x if x else 0", "use where"), ("x | 1", "use 'or'"),
             ("1j", "only real numbers"), ("'2x'", "text is not allowed")]  # fmt: skip
    for text, fragment in cases:
        with pytest.raises(ExpressionError, match=fragment):
            compile_expression(text)


# --- CSV labels compared by value ---------------------------------------------------------------


def _labelled(labels: list[str], delimiter: str = ",") -> bytes:
    lines = [delimiter.join(["x", "y", "label"])]
    lines += [delimiter.join([str(i), str(i % 7), label]) for i, label in enumerate(labels)]
    return ("\n".join(lines) + "\n").encode()


@pytest.mark.parametrize(
    ("spellings", "classes"),
    [
        (["0", "0.0", "1", "1.0", "1.00"], ["0", "1"]),  # the field report (pandas writes 1.0)
        (["1", "+1", "01", "1.", "1e0", "2", "2.000", "20e-1"], ["1", "2"]),
        (["-1.0", "2", "10.00", "-1", "1e1"], ["-1", "2", "10"]),
        ([f"{k}.0" for k in range(10, 0, -1)], [str(k) for k in range(1, 11)]),  # numeric order
        (["cat", "dog", "1.0", "1"], ["1", "cat", "dog"]),
    ],
)
def test_labels_are_folded_by_value_and_numbers_sorted_numerically(spellings, classes):
    labels = (spellings * (40 // len(spellings) + 1))[:40]
    dataset = parse_csv(_labelled(labels))
    assert dataset.classes == classes
    expected = [classes.index(_canonical(label)) for label in labels]
    np.testing.assert_array_equal(dataset.labels, expected)


def _canonical(label: str) -> str:
    try:
        return str(int(float(label)))
    except ValueError:
        return label


def test_decimal_comma_labels_in_a_semicolon_file_are_folded_too():
    dataset = parse_csv(_labelled(["0", "0,0", "1,0", "1"] * 5, delimiter=";"))
    assert dataset.classes == ["0", "1"]
    np.testing.assert_array_equal(dataset.labels[:4], [0, 0, 1, 1])


@pytest.mark.parametrize(
    ("label", "delimiter"), [("0.5", ","), ("2.5e-1", ","), ("-1.25", ","), ("0,5", ";")]
)
def test_a_label_that_is_not_a_whole_number_is_refused_as_continuous(label, delimiter):
    labels = ["0", "1"] * 5
    labels[4] = label  # line 6
    with pytest.raises(DatasetError) as caught:
        parse_csv(_labelled(labels, delimiter))
    message = str(caught.value)
    assert message.startswith("line 6: column 'label' looks continuous"), message
    assert "'target'" in message and "regression" in message


def test_many_numeric_labels_suggest_a_regression():
    with pytest.raises(DatasetError, match="more than 10 classes.*'target'"):
        parse_csv(_labelled([str(i) for i in range(20)]))


# --- separators and decimal marks ---------------------------------------------------------------

GERMAN = "x;target\n" + "".join(f"{i},5;{i * 2},25\n" for i in range(12))


@pytest.mark.parametrize(
    "text",
    [
        GERMAN,  # the field report: a German Excel file
        "sep=;\n" + GERMAN,  # Excel's separator line
        "SEP=;\r\n" + GERMAN.replace("\n", "\r\n"),
        "x;target\n" + "".join(f"{i}.5;{i * 2}.25\n" for i in range(12)),  # ; with points
        "x\ttarget\n" + "".join(f"{i}.5\t{i * 2}.25\n" for i in range(12)),  # tab
        "sep=,\nx,target\n" + "".join(f"{i}.5,{i * 2}.25\n" for i in range(12)),
        "\n\nx ; target\n" + "".join(f" {i},5 ; {i * 2},25 \n" for i in range(12)),
    ],
)
def test_delimiter_and_decimal_mark_are_read_from_the_file(text):
    dataset = parse_csv(text.encode())
    assert dataset.n_rows == 12 and dataset.kind == "regression"
    np.testing.assert_allclose(dataset.X[:, 0], np.arange(12) + 0.5)
    np.testing.assert_allclose(dataset.Y[:, 0], np.arange(12) * 2 + 0.25)


def test_semicolon_classification_with_decimal_commas():
    text = "x;y;label\n" + "".join(f"{i},5;-{i},25;{'ab'[i % 2]}\n" for i in range(12))
    dataset = parse_csv(text.encode())
    assert dataset.classes == ["a", "b"] and dataset.X[1].tolist() == [1.5, -1.25]


def test_line_numbers_count_the_sep_line():
    text = "sep=;\nx;target\n" + "".join(f"{i};{i}\n" for i in range(5)) + "1;zz\n"
    with pytest.raises(DatasetError, match="^line 8: column 'target' is not a number: 'zz'"):
        parse_csv(text.encode())


@pytest.mark.parametrize(
    ("text", "cause"),
    [
        ("x,target\n" + "1,5,2,25\n" * 12, "decimal commas in a comma-separated file"),
        ("x,target\n" + '"1,5",2\n' * 12, "a decimal comma: write 1.5"),
        ("x\ttarget\n" + "1,5\t2\n" * 12, "a decimal comma: write 1.5"),
        ("x;target\n" + "1.234,5;2\n" * 12, "without thousands separators"),
        ("x|target\n" + "1|2\n" * 12, "separated by '|'"),
        ("x target\n" + "1 2\n" * 12, "separated by a space"),
        ("x,target\n" + "1;2\n" * 12, "separated by semicolons, the header by commas"),
        ("sep=|\nx|target\n" + "1|2\n" * 12, "unsupported separator '|'"),
    ],
)
def test_a_file_that_still_cannot_be_read_names_the_likely_cause(text, cause):
    with pytest.raises(DatasetError) as caught:
        parse_csv(text.encode())
    assert cause in str(caught.value), str(caught.value)
    assert str(caught.value).startswith("line ")


# --- a wide header costs time linear in its width (issue 15, item 1) ------------------------------


@pytest.mark.parametrize("width", [1_001, 60_000, 1_000_000])
def test_a_wide_header_is_refused_naming_the_limit(width):
    data = (",".join("c" for _ in range(width)) + "\n" + "1," * (width - 1) + "1\n").encode()
    with pytest.raises(DatasetError) as caught:
        parse_csv(data, max_bytes=len(data))
    assert str(caught.value) == f"line 1: too many columns: {width:,} (at most 100)"


def test_the_width_limit_is_checked_before_the_size_of_the_rest():
    data = (";".join("c" for _ in range(60_000)) + "\n" + "1;2\n" * 10).encode()
    with pytest.raises(DatasetError, match="too many columns: 60,000"):
        parse_csv(data)


def _best_time(data: bytes, repeats: int = 5) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        with pytest.raises(DatasetError):
            parse_csv(data, max_columns=10**7)
        best = min(best, time.perf_counter() - started)
    return best


@pytest.mark.parametrize("names", ["unique", "repeated"])
def test_parsing_a_header_is_linear_in_its_width(names):
    def header(width: int) -> bytes:
        cells = [f"c{i}" if names == "unique" else "x" for i in range(width)]
        return (",".join(cells) + "\n1,2\n").encode()

    small, large = _best_time(header(2_000)), _best_time(header(200_000))
    # 100 times the width: linear costs ~100 times as much, quadratic ~10,000 times
    assert large < 1_000 * small, (small, large)
