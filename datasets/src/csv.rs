//! Tables of numbers as comma-separated text, strictly: every row the same number of finite
//! numbers, the last row ended by a line end, and (when the file's length is known) exactly
//! the rows expected. Errors name the line and column.
//!
//! Strict, because a table has no header promising its length: a file cut after a line end
//! still parses, so the row count is the only guard against a silently short data set, and
//! the final line end the only guard against a cut inside the last number.

use std::path::Path;

use crate::error::DataError;

/// Rows of numbers, row-major.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Table {
    pub rows: usize,
    pub values: Vec<f64>,
}

/// Parses `text` as rows of `columns` numbers, after an optional exact `header` line.
/// Empty lines may follow the last row, and `\r\n` line ends are accepted.
pub(crate) fn parse(
    text: &[u8],
    path: &Path,
    columns: usize,
    header: Option<&str>,
    expected_rows: Option<usize>,
) -> Result<Table, DataError> {
    let error = |line: usize, column: usize, expected: String, found: String| DataError::Csv {
        path: path.to_path_buf(),
        line,
        column,
        expected,
        found,
    };
    let Some(body) = text.strip_suffix(b"\n") else {
        let line = text.split(|&b| b == b'\n').count();
        let found = if text.is_empty() { "an empty file".into() } else { "the end of the file".into() };
        return Err(error(line, 1, "a line end after the last row (the file may be cut short)".into(), found));
    };
    let mut lines = body.split(|&b| b == b'\n').map(|l| l.strip_suffix(b"\r").unwrap_or(l)).enumerate();
    let mut first_row_line = 1;
    if let Some(header) = header {
        let (_, first) = lines.next().expect("split yields at least one piece");
        check_header(first, header).map_err(|(column, expected, found)| error(1, column, expected, found))?;
        first_row_line = 2;
    }
    let mut values = Vec::with_capacity(expected_rows.unwrap_or(0) * columns);
    let (mut rows, mut blank_since) = (0, None);
    for (i, line) in lines {
        let number = i + 1;
        if line.is_empty() {
            blank_since.get_or_insert(number);
            continue;
        }
        if let Some(blank) = blank_since {
            return Err(error(blank, 1, format!("{columns} comma-separated numbers"), "an empty line".into()));
        }
        let mut count = 0;
        for (j, field) in line.split(|&b| b == b',').enumerate() {
            count += 1;
            if j >= columns {
                continue;
            }
            values.push(number_at(field).map_err(|found| error(number, j + 1, "a finite number".into(), found))?);
        }
        if count != columns {
            let column = count.min(columns) + 1;
            return Err(error(number, column, format!("{columns} columns"), format!("{count}")));
        }
        rows += 1;
    }
    if let Some(expected) = expected_rows.filter(|&e| e != rows) {
        let line = first_row_line + rows;
        return Err(error(line, 1, format!("{expected} rows"), format!("{rows} (the file may be cut short)")));
    }
    Ok(Table { rows, values })
}

/// The first difference between a header line and the expected one.
fn check_header(line: &[u8], header: &str) -> Result<(), (usize, String, String)> {
    let found = String::from_utf8_lossy(line);
    let (mut want, mut got) = (header.split(','), found.split(','));
    for column in 1.. {
        match (want.next(), got.next()) {
            (None, None) => return Ok(()),
            (Some(w), g) if Some(w) != g => {
                let found = g.map_or("the end of the header".into(), |g| format!("{g:?}"));
                return Err((column, format!("header field {w:?} (header {header:?})"), found));
            }
            (None, Some(g)) => return Err((column, format!("the end of the header {header:?}"), format!("{g:?}"))),
            _ => {}
        }
    }
    unreachable!("the loop returns")
}

/// A field as a finite number, or the field quoted for the message.
fn number_at(field: &[u8]) -> Result<f64, String> {
    let text = std::str::from_utf8(field).map_err(|_| format!("{:?}", String::from_utf8_lossy(field)))?;
    match text.trim().parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        _ => Err(format!("{text:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_err(text: &str, expected_rows: Option<usize>) -> String {
        parse(text.as_bytes(), Path::new("t.csv"), 2, Some("a,b"), expected_rows).unwrap_err().to_string()
    }

    #[test]
    fn rows_parse_with_crlf_and_trailing_blank_lines() {
        let t = parse(b"a,b\r\n1,2.5\r\n-3,4e2\r\n\r\n", Path::new("t"), 2, Some("a,b"), Some(2)).unwrap();
        assert_eq!(t, Table { rows: 2, values: vec![1.0, 2.5, -3.0, 400.0] });
    }

    #[test]
    fn errors_name_line_and_column() {
        assert_eq!(
            parse_err("a,b\n1,2\n3,x\n", None),
            "t.csv: line 3, column 2: expected a finite number, found \"x\""
        );
        assert_eq!(parse_err("a,b\n1,2\n3\n", None), "t.csv: line 3, column 2: expected 2 columns, found 1");
        assert_eq!(parse_err("a,b\n1,2,3\n", None), "t.csv: line 2, column 3: expected 2 columns, found 3");
        assert_eq!(parse_err("a,b\n1,nan\n", None), "t.csv: line 2, column 2: expected a finite number, found \"nan\"");
        assert_eq!(
            parse_err("a,c\n1,2\n", None),
            "t.csv: line 1, column 2: expected header field \"b\" (header \"a,b\"), found \"c\""
        );
        assert_eq!(
            parse_err("a,b\n1,2\n\n3,4\n", None),
            "t.csv: line 3, column 1: expected 2 comma-separated numbers, found an empty line"
        );
    }

    #[test]
    fn short_and_cut_files_are_errors() {
        assert_eq!(
            parse_err("a,b\n1,2\n", Some(2)),
            "t.csv: line 3, column 1: expected 2 rows, found 1 (the file may be cut short)"
        );
        assert_eq!(
            parse_err("a,b\n1,2\n3,4", Some(2)),
            "t.csv: line 3, column 1: expected a line end after the last row (the file may be cut short), found the end of the file"
        );
        assert!(parse_err("", None).contains("found an empty file"));
    }
}
