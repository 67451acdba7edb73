//! California housing from generated files: scikit-learn's CSV, StatLib's table alone and in
//! its archive, folders, and bad numbers, wrong column counts, short, cut and empty files.

mod common;

use common::{TempDir, gzip, sklearn_csv, statlib_row, statlib_text, tar_gz};
use tapegrad_datasets::{CaliforniaHousing, DataError};

const ROWS: usize = CaliforniaHousing::ROWS;

#[test]
fn the_three_forms_give_the_same_table() {
    let dir = TempDir::new("cal-forms");
    let statlib = statlib_text(ROWS);
    let csv = dir.path().join("california_housing.csv");
    let data = dir.path().join("cal_housing.data");
    let tgz = dir.path().join("cal_housing.tgz");
    std::fs::write(&csv, sklearn_csv(ROWS)).unwrap();
    std::fs::write(&data, &statlib).unwrap();
    std::fs::write(
        &tgz,
        tar_gz(&[
            ("CaliforniaHousing/cal_housing.domain", b"x"),
            ("CaliforniaHousing/cal_housing.data", statlib.as_bytes()),
        ]),
    )
    .unwrap();
    let tables: Vec<CaliforniaHousing> =
        [&csv, &data, &tgz].iter().map(|p| CaliforniaHousing::load(p).unwrap()).collect();
    assert_eq!(tables[0].len(), ROWS);
    assert_eq!(tables[0], tables[1]);
    assert_eq!(tables[1], tables[2]);
    // Row 7 derived by hand: income, age, rooms/households, bedrooms/households, population,
    // population/households, latitude, longitude; value / 100000.
    let r = statlib_row(7).map(|v| format!("{v:.6}").parse::<f64>().unwrap());
    assert_eq!(tables[1].row(7), &[r[7], r[2], r[3] / r[6], r[4] / r[6], r[5], r[5] / r[6], r[1], r[0]]);
    assert_eq!(tables[1].target()[7], r[8] / 100_000.0);
}

#[test]
fn a_folder_is_searched_for_any_form() {
    let dir = TempDir::new("cal-folder");
    std::fs::write(
        dir.path().join("cal_housing.tgz"),
        tar_gz(&[("CaliforniaHousing/cal_housing.data", statlib_text(ROWS).as_bytes())]),
    )
    .unwrap();
    let data = CaliforniaHousing::load(dir.path()).unwrap().into_dataset();
    assert_eq!(data.inputs.shape(), &[ROWS, 8]);
    assert_eq!(data.targets.values().unwrap().shape(), &[ROWS, 1]);
    assert_eq!(data.targets.values().unwrap().get(&[3, 0]), (statlib_row(3)[8] / 100_000.0) as f32);
}

#[test]
fn a_gzipped_csv_is_read_by_content() {
    let dir = TempDir::new("cal-gz");
    let path = dir.path().join("california_housing.csv");
    std::fs::write(&path, gzip(sklearn_csv(ROWS).as_bytes())).unwrap();
    assert_eq!(CaliforniaHousing::load(&path).unwrap().len(), ROWS);
}

fn load_err(name: &str, text: &[u8]) -> (std::path::PathBuf, String, DataError) {
    let dir = TempDir::new("cal-bad");
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    let err = CaliforniaHousing::load(&path).unwrap_err();
    (path, err.to_string(), err)
}

#[test]
fn a_bad_number_names_line_and_column() {
    let mut lines: Vec<String> = statlib_text(ROWS).lines().map(String::from).collect();
    let mut fields: Vec<&str> = lines[4].split(',').collect();
    fields[2] = "4I.000000";
    lines[4] = fields.join(",");
    let (path, msg, err) = load_err("cal_housing.data", (lines.join("\n") + "\n").as_bytes());
    assert!(matches!(err, DataError::Csv { line: 5, column: 3, .. }), "{msg}");
    assert_eq!(msg, format!("{}: line 5, column 3: expected a finite number, found \"4I.000000\"", path.display()));
}

#[test]
fn a_missing_column_is_named() {
    let mut lines: Vec<String> = sklearn_csv(ROWS).lines().map(String::from).collect();
    let cut = lines[10].rfind(',').unwrap();
    lines[10].truncate(cut);
    let (path, msg, _) = load_err("california_housing.csv", (lines.join("\n") + "\n").as_bytes());
    assert_eq!(msg, format!("{}: line 11, column 9: expected 9 columns, found 8", path.display()));
}

#[test]
fn a_short_table_is_refused() {
    let text = sklearn_csv(ROWS - 1);
    let (path, msg, _) = load_err("california_housing.csv", text.as_bytes());
    assert_eq!(
        msg,
        format!(
            "{}: line 20641, column 1: expected 20640 rows, found 20639 (the file may be cut short)",
            path.display()
        )
    );
}

#[test]
fn a_cut_inside_the_last_number_is_refused() {
    let text = statlib_text(ROWS);
    let (path, msg, _) = load_err("cal_housing.data", &text.as_bytes()[..text.len() - 3]);
    assert_eq!(
        msg,
        format!(
            "{}: line 20640, column 1: expected a line end after the last row (the file may be cut short), \
             found the end of the file",
            path.display()
        )
    );
}

#[test]
fn an_empty_file_is_refused() {
    let (_, msg, _) = load_err("california_housing.csv", b"");
    assert!(
        msg.ends_with(
            "line 1, column 1: expected a line end after the last row (the file may be cut short), found an empty file"
        ),
        "{msg}"
    );
}

#[test]
fn a_cut_archive_and_an_archive_without_the_table_are_refused() {
    let tgz = tar_gz(&[("CaliforniaHousing/cal_housing.data", statlib_text(ROWS).as_bytes())]);
    let (_, msg, err) = load_err("cal_housing.tgz", &tgz[..tgz.len() - 20]);
    assert!(matches!(err, DataError::Gzip { .. }), "{msg}");
    let other = tar_gz(&[("CaliforniaHousing/cal_housing.domain", b"longitude: continuous.\n")]);
    let (path, msg, _) = load_err("cal_housing.tgz", &other);
    assert_eq!(
        msg,
        format!(
            "{}: expected a member CaliforniaHousing/cal_housing.data, found only [\"CaliforniaHousing/cal_housing.domain\"]",
            path.display()
        )
    );
}

#[test]
fn a_folder_without_the_files_says_what_to_place() {
    let dir = TempDir::new("cal-none");
    let msg = CaliforniaHousing::load(dir.path()).unwrap_err().to_string();
    let full = |name: &str| dir.path().join(name).display().to_string();
    assert!(msg.starts_with("california-housing: files are missing\nplace these files here:\n"), "{msg}");
    assert!(msg.contains(&format!("{} (from https://ndownloader.figshare.com/files/5976036", full("cal_housing.tgz"))));
    assert!(msg.contains(&full("california_housing.csv")) && msg.contains(&full("cal_housing.data")), "{msg}");
}
