//! California housing (Pace and Barry, 1997): 20,640 census block groups, eight features and
//! the median house value, as scikit-learn's `fetch_california_housing` presents them.
//!
//! Two sources give the same table:
//! - scikit-learn's presentation as CSV (`california_housing.csv`, as written by
//!   `fetch_california_housing(as_frame=True).frame.to_csv(index=False)`), header
//!   `MedInc,HouseAge,AveRooms,AveBedrms,Population,AveOccup,Latitude,Longitude,MedHouseVal`;
//! - the original StatLib table `cal_housing.data` (alone, or inside `cal_housing.tgz` as
//!   `CaliforniaHousing/cal_housing.data`), nine raw columns from which the features are
//!   derived exactly as scikit-learn does: rooms, bedrooms and population per household,
//!   and the value in units of $100,000.
//!
//! Which one a file is, is read from its content (gzip, tar, header), not its name.

use std::path::{Path, PathBuf};

use tapegrad_autograd::Tensor;

use crate::csv;
use crate::dataset::{Dataset, Targets};
use crate::error::DataError;
use crate::file;
use crate::sources::Source;

#[cfg(feature = "download")]
use crate::download::Downloader;

/// The archive member scikit-learn reads.
const MEMBER: &str = "CaliforniaHousing/cal_housing.data";
/// The files a folder may hold, in the order they are looked for.
const NAMES: [&str; 3] = ["california_housing.csv", "cal_housing.data", "cal_housing.tgz"];

/// The table: eight features and the target per block group.
///
/// ```
/// # let dir = std::env::temp_dir().join(format!("tapegrad-doc-california-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// # let row = "-122.23,37.88,41,880,129,322,126,8.3252,452600\n";
/// # std::fs::write(dir.join("cal_housing.data"), row.repeat(20_640)).unwrap();
/// use tapegrad_datasets::CaliforniaHousing;
/// let housing = CaliforniaHousing::load(&dir)?; // finds any of the three files
/// assert_eq!(housing.len(), 20_640);
/// assert_eq!(housing.row(0)[0], 8.3252); // MedInc
/// let data = housing.into_dataset(); // inputs [20640, 8], targets [20640, 1]
/// assert_eq!(data.inputs.shape(), &[20_640, 8]);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), tapegrad_datasets::DataError>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct CaliforniaHousing {
    features: Vec<f64>,
    target: Vec<f64>,
}

impl CaliforniaHousing {
    /// The feature names, in column order.
    pub const FEATURES: [&'static str; 8] =
        ["MedInc", "HouseAge", "AveRooms", "AveBedrms", "Population", "AveOccup", "Latitude", "Longitude"];
    /// The target's name: median house value in units of $100,000.
    pub const TARGET: &'static str = "MedHouseVal";
    /// The CSV header, exactly.
    pub const CSV_HEADER: &'static str =
        "MedInc,HouseAge,AveRooms,AveBedrms,Population,AveOccup,Latitude,Longitude,MedHouseVal";
    /// The number of block groups.
    pub const ROWS: usize = 20_640;

    /// Loads the table from a file (CSV, `cal_housing.data` or `cal_housing.tgz`) or from a
    /// folder holding one of them; it must have [`CaliforniaHousing::ROWS`] rows.
    ///
    /// # Errors
    /// [`DataError::Missing`] for a folder without any of the files; [`DataError::Csv`] with
    /// line and column for a bad number, a wrong column count or a short table;
    /// [`DataError::Archive`] for an archive without the table; [`DataError::Io`],
    /// [`DataError::Gzip`].
    pub fn load(path: impl AsRef<Path>) -> Result<CaliforniaHousing, DataError> {
        let path = path.as_ref();
        let file = if path.is_dir() { find(path).ok_or_else(|| missing(path))? } else { path.to_path_buf() };
        Self::parse(file::read(&file)?, &file, Some(Self::ROWS))
    }

    /// Parses a file's bytes (any of the three forms, gzip or not); `path` names it in
    /// errors. With `expected_rows`, a table of any other length is an error.
    ///
    /// # Errors
    /// As [`CaliforniaHousing::load`].
    ///
    /// ```
    /// use std::path::Path;
    /// use tapegrad_datasets::CaliforniaHousing;
    /// // longitude, latitude, age, rooms, bedrooms, population, households, income, value
    /// let raw = b"-122.23,37.88,41,880,129,322,126,8.3252,452600\n";
    /// let table = CaliforniaHousing::parse(raw.to_vec(), Path::new("cal_housing.data"), Some(1)).unwrap();
    /// assert_eq!(table.row(0)[2], 880.0 / 126.0); // AveRooms
    /// assert_eq!(table.target()[0], 4.526);
    /// ```
    pub fn parse(bytes: Vec<u8>, path: &Path, expected_rows: Option<usize>) -> Result<CaliforniaHousing, DataError> {
        let bytes = file::decode(bytes, path)?;
        if is_tar(&bytes) {
            let inner = path.join(MEMBER);
            return from_statlib(&member(&bytes, path)?, &inner, expected_rows);
        }
        let first_line = bytes.split(|&b| b == b'\n').next().unwrap_or(&[]);
        if first_line.strip_suffix(b"\r").unwrap_or(first_line) == Self::CSV_HEADER.as_bytes() {
            let table = csv::parse(&bytes, path, 9, Some(Self::CSV_HEADER), expected_rows)?;
            let (features, target) = table.values.chunks_exact(9).map(|r| (&r[..8], r[8])).unzip::<_, _, Vec<_>, _>();
            return Ok(CaliforniaHousing { features: features.concat(), target });
        }
        from_statlib(&bytes, path, expected_rows)
    }

    /// The number of block groups.
    pub fn len(&self) -> usize {
        self.target.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.target.is_empty()
    }

    /// The features of row `i`, in the order of [`CaliforniaHousing::FEATURES`].
    ///
    /// # Panics
    /// If `i` is out of range.
    #[track_caller]
    pub fn row(&self, i: usize) -> &[f64] {
        &self.features[i * 8..(i + 1) * 8]
    }

    /// All features, row-major `[n, 8]`.
    pub fn features(&self) -> &[f64] {
        &self.features
    }

    /// The median house values in $100,000.
    pub fn target(&self) -> &[f64] {
        &self.target
    }

    /// Inputs `[n, 8]` and value targets `[n, 1]`, as `f32`. Unscaled: fit a
    /// [`crate::Standardizer`] on the training part.
    pub fn into_dataset(self) -> Dataset {
        let n = self.len();
        let inputs = Tensor::from_vec(self.features.into_iter().map(|v| v as f32).collect(), &[n, 8]);
        let target = Tensor::from_vec(self.target.into_iter().map(|v| v as f32).collect(), &[n, 1]);
        Dataset::new(inputs.expect("8 per row"), Targets::Values(target.expect("1 per row"))).expect("n rows each")
    }

    /// Loads from `dir` (or `cache_dir()/california-housing` if `None`), downloading
    /// `cal_housing.tgz` first if the folder has none of the three files (feature `download`).
    ///
    /// # Errors
    /// As [`CaliforniaHousing::load`]; [`DataError::Download`] or [`DataError::Checksum`].
    pub fn load_or_download(dir: Option<&Path>) -> Result<CaliforniaHousing, DataError> {
        let source = Source::california_housing();
        let dir = dir.map_or_else(|| source.cache_dir(), |d| Ok(d.to_path_buf()))?;
        if find(&dir).is_none() {
            crate::sources::provide(&source, &dir, &[&source.files[0]])?;
        }
        Self::load(&dir)
    }

    /// As [`CaliforniaHousing::load_or_download`], from `source` with `downloader`.
    ///
    /// # Errors
    /// As [`CaliforniaHousing::load_or_download`].
    #[cfg(feature = "download")]
    pub fn load_or_download_from(
        dir: &Path,
        source: &Source,
        downloader: &Downloader,
    ) -> Result<CaliforniaHousing, DataError> {
        if find(dir).is_none() {
            downloader.fetch(source, dir, &[&source.files[0]])?;
        }
        Self::load(dir)
    }
}

/// The first of the known files present in `dir`.
fn find(dir: &Path) -> Option<PathBuf> {
    NAMES.iter().map(|n| dir.join(n)).find(|p| p.is_file())
}

fn missing(dir: &Path) -> DataError {
    let source = Source::california_housing();
    let mut place_here = source.placements(dir, &source.files);
    place_here[0].url.push_str(&format!(
        "; or place {} or {} there instead",
        crate::sources::absolute(&dir.join(NAMES[0])).display(),
        crate::sources::absolute(&dir.join(NAMES[1])).display()
    ));
    DataError::Missing { what: source.dataset, place_here }
}

/// Whether `bytes` are a tar archive (POSIX `ustar` magic at offset 257).
fn is_tar(bytes: &[u8]) -> bool {
    bytes.get(257..262) == Some(b"ustar")
}

/// The bytes of `CaliforniaHousing/cal_housing.data` in the tar archive `bytes`.
fn member(bytes: &[u8], path: &Path) -> Result<Vec<u8>, DataError> {
    let archive_error =
        |expected: String, found: String| DataError::Archive { path: path.to_path_buf(), expected, found };
    let mut names = Vec::new();
    let members = crate::tar::read_members(bytes, |name, _| {
        names.push(name.to_string());
        name == MEMBER
    })
    .map_err(|e| archive_error(format!("a tar archive: {}", e.expected), e.found))?;
    match members.into_iter().next() {
        Some(member) => Ok(member.data),
        None => Err(archive_error(format!("a member {MEMBER}"), format!("only {names:?}"))),
    }
}

/// The StatLib table: longitude, latitude, housingMedianAge, totalRooms, totalBedrooms,
/// population, households, medianIncome, medianHouseValue; features derived as
/// scikit-learn's `fetch_california_housing` derives them.
fn from_statlib(bytes: &[u8], path: &Path, expected_rows: Option<usize>) -> Result<CaliforniaHousing, DataError> {
    let table = csv::parse(bytes, path, 9, None, expected_rows)?;
    let mut features = Vec::with_capacity(table.rows * 8);
    let mut target = Vec::with_capacity(table.rows);
    for (i, r) in table.values.chunks_exact(9).enumerate() {
        let [lon, lat, age, rooms, bedrooms, population, households, income, value] = r.try_into().expect("9 columns");
        if households <= 0.0 {
            return Err(DataError::Csv {
                path: path.to_path_buf(),
                line: i + 1,
                column: 7,
                expected: "a positive number of households (the averages divide by it)".into(),
                found: households.to_string(),
            });
        }
        features.extend([income, age, rooms / households, bedrooms / households, population]);
        features.extend([population / households, lat, lon]);
        target.push(value / 100_000.0);
    }
    Ok(CaliforniaHousing { features, target })
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATLIB: &str = "-122.230000,37.880000,41.000000,880.000000,129.000000,322.000000,126.000000,8.325200,452600.000000\n\
                           -122.220000,37.860000,21.000000,7099.000000,1106.000000,2401.000000,1138.000000,8.301400,358500.000000\n";

    #[test]
    fn statlib_rows_derive_sklearn_features() {
        let t = CaliforniaHousing::parse(STATLIB.into(), Path::new("d"), Some(2)).unwrap();
        // scikit-learn's first row: [8.3252, 41.0, 6.984126984126984, 1.0238095238095237,
        // 322.0, 2.5555555555555554, 37.88, -122.23], target 4.526.
        let expected = [8.3252, 41.0, 6.984126984126984, 1.0238095238095237, 322.0, 2.5555555555555554, 37.88, -122.23];
        assert_eq!(t.row(0), &expected);
        assert_eq!(t.target(), &[4.526, 3.585]);
    }

    #[test]
    fn the_csv_presentation_reads_the_same_numbers() {
        let csv = format!(
            "{}\n8.3252,41.0,6.984126984126984,1.0238095238095237,322.0,2.5555555555555554,37.88,-122.23,4.526\n",
            CaliforniaHousing::CSV_HEADER
        );
        let from_csv = CaliforniaHousing::parse(csv.into_bytes(), Path::new("c.csv"), Some(1)).unwrap();
        let from_data = CaliforniaHousing::parse(
            format!("{}\n", STATLIB.lines().next().unwrap()).into_bytes(),
            Path::new("d"),
            None,
        );
        assert_eq!(from_csv, from_data.unwrap());
    }

    #[test]
    fn zero_households_is_an_error_not_infinity() {
        let bad = "-122.23,37.88,41,880,129,322,0,8.3252,452600\n";
        let err = CaliforniaHousing::parse(bad.into(), Path::new("d"), None).unwrap_err();
        assert!(err.to_string().starts_with("d: line 1, column 7: expected a positive number of households"), "{err}");
    }
}
