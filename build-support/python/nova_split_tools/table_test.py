from nova_split_tools.table import format_table


def test_columns_pad_to_the_widest_cell_without_trailing_spaces() -> None:
    rows = [("name", "seconds", "why"), ("a", "1.50", ""), ("longer", "12.00", "because")]
    assert format_table(rows, right={1}) == [
        "name    seconds  why",
        "a          1.50",
        "longer    12.00  because",
    ]


def test_short_rows_and_no_rows() -> None:
    assert format_table([("a", "b"), ("ccc",)]) == ["a    b", "ccc"]
    assert format_table([]) == []
