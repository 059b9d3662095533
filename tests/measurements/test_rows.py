"""Reading the contract's CSV format: the shape of the file, the values, the problem report."""

from __future__ import annotations

import datetime
import gzip
import hashlib
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marketing_op.measurements.imports.formats import (
    CSV_COLUMNS,
    FORMULA_STARTS,
    MeasurementRow,
    csv_records,
    formula_quoted,
    formula_unquoted,
    json_records,
    write_measurement_csv,
)
from marketing_op.measurements.imports.problems import ProblemLog
from marketing_op.measurements.imports.streams import ContentTooLarge, HashingReader, open_text
from marketing_op.measurements.imports.validation import RowChecker, read_measurement_csv

HEADER = ",".join(CSV_COLUMNS)


def read(text: str) -> tuple[list[tuple[int, MeasurementRow]], ProblemLog]:
    problems = ProblemLog()
    rows = list(read_measurement_csv(io.StringIO(text, newline=""), problems))
    return rows, problems


def problems_of(text: str) -> list[tuple[int, str, str, str]]:
    _, problems = read(text)
    return [(p.line, p.column, p.value, p.message) for p in problems.problems]


def test_a_valid_file_gives_typed_rows_with_their_line_numbers():
    rows, problems = read(
        f"{HEADER}\nenergy drink,branding,summer,tv,2021-01-04,2242.0662350159814\n"
        "energy drink,branding,summer,radio,2021-01-05,0\n"
    )

    assert not problems
    assert rows == [
        (
            2,
            MeasurementRow(
                "energy drink",
                "branding",
                "summer",
                "tv",
                datetime.date(2021, 1, 4),
                2242.0662350159814,
            ),
        ),
        (
            3,
            MeasurementRow(
                "energy drink", "branding", "summer", "radio", datetime.date(2021, 1, 5), 0.0
            ),
        ),
    ]


def test_columns_may_come_in_any_order_and_names_are_trimmed():
    rows, problems = read(
        "conversions,date,channel,campaign,campaign_type,product\n12.5,2021-01-04, tv ,c,t,p\n"
    )

    assert not problems
    assert rows == [(2, MeasurementRow("p", "t", "c", "tv", datetime.date(2021, 1, 4), 12.5))]


def test_quoted_fields_with_commas_and_quotes_are_read():
    rows, problems = read(f'{HEADER}\np,t,"sale, ""big"" one",tv,2021-01-04,1\n')

    assert not problems
    assert rows[0][1].campaign == 'sale, "big" one'


def test_a_line_break_inside_a_quoted_name_is_refused_at_the_line_where_the_row_ends():
    found = problems_of(f'{HEADER}\np,t,"sale\nsecond line",tv,2021-01-04,1\n')

    assert found == [
        (
            3,
            "campaign",
            "sale\\u000asecond line",
            "contains U+000A LINE FEED at character 5, an invisible or control character "
            "that makes names that look alike differ: remove it",
        )
    ]


@pytest.mark.parametrize(
    ("name", "column", "shown", "character"),
    [
        ("\ufeffp", "product", "\\ufeffp", "U+FEFF ZERO WIDTH NO-BREAK SPACE at character 1"),
        ("p\u200b", "product", "p\\u200b", "U+200B ZERO WIDTH SPACE at character 2"),
        (
            "p\u202egnp.exe",
            "campaign",
            "p\\u202egnp.exe",
            "U+202E RIGHT-TO-LEFT OVERRIDE at character 2",
        ),
        (
            "a\u2066b\u2069",
            "channel",
            "a\\u2066b\\u2069",
            "U+2066 LEFT-TO-RIGHT ISOLATE at character 2",
        ),
        (
            "soft\u00adhyphen",
            "campaign_type",
            "soft\\u00adhyphen",
            "U+00AD SOFT HYPHEN at character 5",
        ),
        ("tab\tbed", "channel", "tab\\u0009bed", "U+0009 TAB at character 4"),
        ("p\u2028q", "product", "p\\u2028q", "U+2028 LINE SEPARATOR at character 2"),
    ],
)
def test_a_name_with_an_invisible_or_control_character_is_refused_naming_it(
    name, column, shown, character
):
    """Issue 24.6: `p`, `\ufeffp` and `p\u200b` became three products, and a right-to-left
    override (which shows `p\u202egnp.exe` as `pexe.png`) was accepted."""
    values = {"product": "p", "campaign_type": "t", "campaign": "c", "channel": "tv"}
    values[column] = name
    line = ",".join([*values.values(), "2021-01-04", "1"])

    found = problems_of(f"{HEADER}\np,t,c,tv,2021-01-03,1\n{line}\n")

    assert found == [
        (
            3,
            column,
            shown,
            f"contains {character}, an invisible or control character that makes names "
            "that look alike differ: remove it",
        )
    ]


def test_names_are_read_in_unicodes_composed_form():
    composed, decomposed = "Caf\u00e9", "Cafe\u0301"
    rows, problems = read(
        f"{HEADER}\n{composed},t,\u00e9t\u00e9,tv,2021-01-04,1\n"
        f"{decomposed},t\u0308,e\u0301te\u0301,tv,2021-01-05,2\n"
    )

    assert not problems
    assert [row[:4] for _, row in rows] == [
        (composed, "t", "\u00e9t\u00e9", "tv"),
        (composed, "\u1e97", "\u00e9t\u00e9", "tv"),
    ]


def test_an_empty_file_is_a_problem():
    assert problems_of("") == [(1, "header", "", "the file is empty")]


def test_missing_and_unknown_columns_are_reported_on_line_1():
    found = problems_of("product,campaign_type,campaign,channel,day,conversions\n")

    assert (1, "date", "", "column is missing") in found
    assert (1, "day", "day", "column is unknown") in found


def test_a_column_named_twice_is_reported():
    found = problems_of(f"{HEADER},product\n")

    assert (1, "product", "product", "column is unknown") not in found
    assert found == [(1, "header", f"{HEADER},product", "a column is named twice")]


@pytest.mark.parametrize(
    ("line", "column", "value", "message"),
    [
        (",t,c,tv,2021-01-04,1", "product", "", "must not be empty"),
        ("p,  ,c,tv,2021-01-04,1", "campaign_type", "  ", "must not be empty"),
        ("p,t,,tv,2021-01-04,1", "campaign", "", "must not be empty"),
        ("p,t,c,,2021-01-04,1", "channel", "", "must not be empty"),
        (
            "p,t,c,tv,2021-02-30,1",
            "date",
            "2021-02-30",
            "is not a valid date: February 2021 has 28 days",
        ),
        (
            "p,t,c,tv,2024-02-30,1",
            "date",
            "2024-02-30",
            "is not a valid date: February 2024 has 29 days",
        ),
        (
            "p,t,c,tv,2023-04-31,1",
            "date",
            "2023-04-31",
            "is not a valid date: April 2023 has 30 days",
        ),
        (
            "p,t,c,tv,2023-13-01,1",
            "date",
            "2023-13-01",
            "is not a valid date: there is no month 13",
        ),
        ("p,t,c,tv,2023-01-00,1", "date", "2023-01-00", "is not a valid date: there is no day 0"),
        ("p,t,c,tv,2021-1-4,1", "date", "2021-1-4", "is not a date of the form YYYY-MM-DD"),
        ("p,t,c,tv,04/01/2021,1", "date", "04/01/2021", "is not a date of the form YYYY-MM-DD"),
        ("p,t,c,tv,20210104,1", "date", "20210104", "is not a date of the form YYYY-MM-DD"),
        ("p,t,c,tv,2021-01-04,", "conversions", "", "is not a number"),
        ("p,t,c,tv,2021-01-04,abc", "conversions", "abc", "is not a number"),
        ("p,t,c,tv,2021-01-04,1_000", "conversions", "1_000", "is not a number"),
        ("p,t,c,tv,2021-01-04,-1", "conversions", "-1", "must be a finite number, not negative"),
        ("p,t,c,tv,2021-01-04,nan", "conversions", "nan", "must be a finite number, not negative"),
        ("p,t,c,tv,2021-01-04,inf", "conversions", "inf", "must be a finite number, not negative"),
        (
            "p,t,c,tv,2021-01-04,1e400",
            "conversions",
            "1e400",
            "must be a finite number, not negative",
        ),
    ],
)
def test_each_bad_value_is_reported_with_line_column_and_value(line, column, value, message):
    assert problems_of(f"{HEADER}\np,t,c,tv,2021-01-03,1\n{line}\n") == [
        (3, column, value, message)
    ]


SEMICOLON_HEADER = HEADER.replace(",", ";")


@pytest.mark.parametrize(
    ("text", "separator"),
    [
        (f"{SEMICOLON_HEADER}\np;branding;c;tv;2021-01-04;1,5\n", "semicolon"),
        (
            f"\ufeff{SEMICOLON_HEADER.upper()};spend\r\np;branding;c;tv;2021-01-04;1,5;2\r\n",
            "semicolon",
        ),
        (f"{SEMICOLON_HEADER}\n", "semicolon"),
        (f"{HEADER.replace(',', chr(9))}\np\tbranding\tc\ttv\t2021-01-04\t1.5\n", "tab"),
    ],
    ids=["decimal comma", "Excel's BOM, CRLF and spend", "header only", "tab"],
)
def test_a_file_separated_by_semicolons_or_tabs_is_one_problem_that_says_so(text, separator):
    """Excel saves "CSV" with semicolons where the decimal separator is a comma: seven
    "column is missing" problems said nothing useful. The file is refused, not read: in it,
    ``1,5`` may be one and a half or fifteen."""
    rows, problems = read(text)

    assert rows == []
    assert [(p.line, p.column, p.message) for p in problems.problems] == [
        (
            1,
            "header",
            f"the file looks {separator}-separated; save it as comma-separated CSV "
            "(with a point as the decimal separator) and import it again",
        )
    ]


def test_names_with_semicolons_in_a_comma_separated_file_are_read():
    rows, problems = read(f"{HEADER}\np;q,branding;x,c;d,tv;radio,2021-01-04,1.5\n")

    assert not problems
    assert [row[:4] for _, row in rows] == [("p;q", "branding;x", "c;d", "tv;radio")]


def test_a_semicolon_separated_header_that_lacks_a_column_is_said_to_be_so_first():
    found = problems_of("product;campaign_type;campaign;channel;date\np;b;c;tv;2021-01-04\n")

    assert [message[:37] for *_, message in found] == ["the file looks semicolon-separated; s"]


def test_a_comma_separated_header_with_a_semicolon_in_it_is_read_as_comma_separated():
    found = problems_of("product,campaign_type,campaign;channel,date,conversions\n")

    assert [(column, message) for _, column, _, message in found] == [
        ("campaign", "column is missing"),
        ("channel", "column is missing"),
        ("campaign;channel", "column is unknown"),
    ]


def test_a_name_longer_than_200_characters_is_reported_shortened():
    found = problems_of(f"{HEADER}\n{'x' * 201},t,c,tv,2021-01-04,1\n")

    assert found[0][:2] == (2, "product")
    assert found[0][3] == "is longer than 200 characters"
    assert len(found[0][2]) == 80


def test_a_row_with_the_wrong_number_of_fields_is_reported():
    assert problems_of(f"{HEADER}\np,t,c,tv,2021-01-04\n") == [
        (2, "row", "p,t,c,tv,2021-01-04", "has 5 fields, expected 6")
    ]


def test_every_problem_of_a_line_is_reported():
    found = problems_of(f"{HEADER}\n,t,c,,nope,-3\n")

    assert [(line, column) for line, column, _, _ in found] == [
        (2, "product"),
        (2, "channel"),
        (2, "date"),
        (2, "conversions"),
    ]


def test_the_first_50_problems_are_kept_and_the_rest_counted():
    text = HEADER + "\n" + "".join(f"p,t,c,tv,2021-01-04,bad{n}\n" for n in range(120))

    _, problems = read(text)

    assert problems.count == 120
    assert len(problems.problems) == 50
    assert problems.problems[-1].value == "bad49"


def test_a_repeated_bad_name_is_reported_on_every_line():
    found = problems_of(f"{HEADER}\n,t,c,tv,2021-01-04,1\n,t,c,tv,2021-01-05,1\n")

    assert [line for line, *_ in found] == [2, 3]


def test_zero_and_negative_zero_and_tiny_numbers_are_written_for_postgresql():
    problems = ProblemLog()
    checker = RowChecker(problems)
    records = [
        (2, ("p", "t", "c", "tv", "2021-01-04", value))
        for value in ("-0", "0.0", "1e-400", "1e-310", " 12.5 ")
    ]

    lines = list(checker.copy_lines(records))

    assert not problems
    assert [line.split("\t")[3].strip() for line in lines] == ["0", "0", "0", "1e-310", "12.5"]


def test_names_are_keyed_once_per_series():
    problems = ProblemLog()
    checker = RowChecker(problems)
    records = [
        (2, ("p", "t", "c", "tv", "2021-01-04", "1")),
        (3, ("p", "t", "c", " tv", "2021-01-05", "1")),
        (4, ("p", "t", "c", "radio", "2021-01-05", "1")),
    ]

    lines = list(checker.copy_lines(records))

    assert [line.split("\t")[1] for line in lines] == ["0", "0", "1"]
    assert checker.series == [("p", "t", "c", "tv"), ("p", "t", "c", "radio")]


def test_json_rows_are_checked_for_shape_and_types():
    problems = ProblemLog()
    items = [
        {
            "product": "p",
            "campaign_type": "t",
            "campaign": "c",
            "channel": "tv",
            "date": "2021-01-04",
            "conversions": 12,
        },
        {
            "product": "p",
            "campaign_type": "t",
            "campaign": "c",
            "channel": "tv",
            "date": "2021-01-04",
            "conversions": True,
        },
        {
            "product": "p",
            "campaign_type": "t",
            "campaign": "c",
            "channel": "tv",
            "date": "2021-01-04",
        },
        "not an object",
    ]

    records = list(json_records(items, problems))

    assert records == [(1, ["p", "t", "c", "tv", "2021-01-04", "12.0", ""])]
    assert [(p.line, p.column, p.message) for p in problems.problems] == [
        (2, "conversions", "must be a number"),
        (3, "conversions", "is missing"),
        (4, "row", "must be a JSON object"),
    ]


def test_a_json_body_that_is_not_a_list_is_a_problem():
    problems = ProblemLog()

    assert list(json_records({"rows": []}, problems)) == []
    assert problems.problems[0].message == "must be a JSON list of measurement rows"


def test_gzip_is_recognised_and_the_digest_is_of_the_bytes_given():
    text = f"{HEADER}\np,t,c,tv,2021-01-04,1\n".encode()
    compressed = gzip.compress(text)
    raw = HashingReader(io.BytesIO(compressed))

    problems = ProblemLog()
    records = list(csv_records(open_text(raw), problems))

    assert records == [(2, ["p", "t", "c", "tv", "2021-01-04", "1"])]
    assert raw.hexdigest() == hashlib.sha256(compressed).hexdigest()
    assert raw.bytes_read == len(compressed)


def test_a_broken_gzip_stream_is_a_problem_not_a_crash():
    compressed = gzip.compress(f"{HEADER}\n".encode() + b"p,t,c,tv,2021-01-04,1\n" * 1000)
    problems = ProblemLog()

    list(csv_records(open_text(HashingReader(io.BytesIO(compressed[:-40]))), problems))

    assert problems.problems[0].message.startswith("cannot be read")


def test_text_that_is_not_utf8_is_a_problem():
    problems = ProblemLog()
    data = f"{HEADER}\n".encode() + "p,t,c,tv,2021-01-04,1\n".encode("utf-16")

    list(csv_records(open_text(HashingReader(io.BytesIO(data))), problems))

    assert problems.problems[0].message.startswith("is not UTF-8 text")


def test_a_byte_order_mark_is_ignored():
    data = ("\ufeff" + HEADER + "\np,t,c,tv,2021-01-04,1\n").encode()
    problems = ProblemLog()

    assert len(list(csv_records(open_text(HashingReader(io.BytesIO(data))), problems))) == 1
    assert not problems


def test_the_reader_refuses_more_bytes_than_the_limit():
    raw = HashingReader(io.BytesIO(b"x" * 100), limit=10)

    with pytest.raises(ContentTooLarge):
        raw.drain()


def test_written_files_read_back_the_same():
    rows = [
        MeasurementRow(
            "p", "t", 'a "quoted", campaign', "tv", datetime.date(2021, 1, 4), 0.1 + 0.2
        ),
        MeasurementRow("p", "t", "c", "radio", datetime.date(2021, 1, 4), 2.0, 0.1 + 0.7),
    ]
    stream = io.StringIO()
    write_measurement_csv(rows, stream)

    read_back, problems = read(stream.getvalue())

    assert stream.getvalue().splitlines()[0] == f"{HEADER},spend"
    assert not problems
    assert [row for _, row in read_back] == rows


# --- spend: an optional column -----------------------------------------------------------------


def test_the_spend_column_gives_each_row_its_spend_and_an_empty_one_means_unknown():
    rows, problems = read(
        f"{HEADER},spend\np,t,c,tv,2021-01-04,12.5,300.25\np,t,c,radio,2021-01-04,3,\n"
        "p,t,c,ooh,2021-01-04,0,0\n"
    )

    assert not problems
    assert [(row.channel, row.spend) for _, row in rows] == [
        ("tv", 300.25),
        ("radio", None),
        ("ooh", 0.0),
    ]


def test_without_the_spend_column_every_spend_is_unknown():
    rows, problems = read(f"{HEADER}\np,t,c,tv,2021-01-04,12.5\n")

    assert not problems
    assert rows[0][1].spend is None


def test_the_spend_column_may_come_anywhere():
    rows, problems = read(
        "spend,conversions,date,channel,campaign,campaign_type,product\n"
        " 7.5 ,12.5,2021-01-04,tv,c,t,p\n"
    )

    assert not problems
    assert rows == [(2, MeasurementRow("p", "t", "c", "tv", datetime.date(2021, 1, 4), 12.5, 7.5))]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("abc", "is not a number"),
        ("1_000", "is not a number"),
        ("-0.01", "must be a finite number, not negative"),
        ("nan", "must be a finite number, not negative"),
        ("inf", "must be a finite number, not negative"),
        ("2e15", "must be at most 1e+15, so that sums stay finite"),
    ],
)
def test_a_bad_spend_is_reported_with_line_column_and_value(value, message):
    text = f"{HEADER},spend\np,t,c,tv,2021-01-03,1,2\np,t,c,tv,2021-01-04,1,{value}\n"

    assert problems_of(text) == [(3, "spend", value, message)]


def test_a_row_without_its_spend_field_is_reported():
    assert problems_of(f"{HEADER},spend\np,t,c,tv,2021-01-04,1\n") == [
        (2, "row", "p,t,c,tv,2021-01-04,1", "has 6 fields, expected 7")
    ]


def test_json_spend_is_a_number_null_or_absent():
    problems = ProblemLog()
    row = {
        "product": "p",
        "campaign_type": "t",
        "campaign": "c",
        "channel": "tv",
        "date": "2021-01-04",
        "conversions": 1,
    }
    items = [
        {**row, "spend": 12},
        {**row, "spend": None},
        row,
        {**row, "spend": "12"},
        {**row, "spend": False},
        {**row, "spend": 1, "cost": 2},
    ]

    records = list(json_records(items, problems))

    assert [values[-1] for _, values in records] == ["12.0", "", ""]
    assert [(p.line, p.column, p.value, p.message) for p in problems.problems] == [
        (4, "spend", "12", "must be a number or null"),
        (5, "spend", "False", "must be a number or null"),
        (6, "cost", "2", "is unknown"),
    ]


def test_a_json_spend_too_large_for_a_float_is_reported_as_too_large():
    problems = ProblemLog()
    checker = RowChecker(problems)
    row = {"product": "p", "campaign_type": "t", "campaign": "c", "channel": "tv",
           "date": "2021-01-04", "conversions": 1, "spend": 10**400}  # fmt: skip

    assert list(checker.copy_lines(json_records([row], problems))) == []
    assert [(p.column, p.message) for p in problems.problems] == [
        ("spend", "must be a finite number, not negative")
    ]


# --- names that a spreadsheet would run as formulas (OWASP, CSV Injection) ------------------


@pytest.mark.parametrize(
    ("name", "cell"),
    [
        ("=SUM(A1)", "'=SUM(A1)"),
        ("+1", "'+1"),
        ("-x", "'-x"),
        ("@home", "'@home"),
        ("\tabc", "'\tabc"),
        ("\rabc", "'\rabc"),
        ("'abc", "''abc"),
        ("''", "'''"),
        ("'", "''"),
        ("abc", "abc"),
        ("a=b", "a=b"),
        ("it's", "it's"),
        ("", ""),
    ],
)
def test_names_that_start_like_a_formula_or_a_quote_are_written_after_a_quote(name, cell):
    assert formula_quoted(name) == cell
    assert formula_unquoted(cell) == name


@given(st.text(max_size=8) | st.sampled_from([*FORMULA_STARTS, "'"]).map(lambda c: c + "x"))
def test_every_name_reads_back_from_its_cell_and_no_cell_starts_a_formula(name):
    cell = formula_quoted(name)

    assert formula_unquoted(cell) == name
    assert not cell.startswith(FORMULA_STARTS)


def test_a_csv_file_gives_names_without_the_quote_that_protects_them():
    rows, problems = read(
        f"{HEADER}\n'=SUM(A1),''abc,'abc,'-x,2021-01-04,1\n' @x,'+,',tv,2021-01-05,2\n"
    )

    assert not problems
    assert [row[:4] for _, row in rows] == [
        ("=SUM(A1)", "'abc", "'abc", "-x"),
        ("' @x", "+", "'", "tv"),
    ]


def test_json_rows_keep_their_names_as_they_are():
    problems = ProblemLog()
    checker = RowChecker(problems)
    records = [(1, ("'=SUM(A1)", "t", "''abc", "tv", "2021-01-04", "1"))]

    list(checker.copy_lines(records))

    assert checker.series == [("'=SUM(A1)", "t", "''abc", "tv")]


def test_written_files_quote_formulas_and_read_back_the_same():
    rows = [MeasurementRow("=SUM(A1)", "-x", "'abc", "@tv", datetime.date(2021, 1, 4), 1.5)]
    stream = io.StringIO()
    write_measurement_csv(rows, stream)

    read_back, problems = read(stream.getvalue())

    assert stream.getvalue().splitlines()[1] == "'=SUM(A1),'-x,''abc,'@tv,2021-01-04,1.5,"
    assert not problems
    assert [row for _, row in read_back] == rows
