//! Writing an [`Image`] as PNG: to bytes in memory, or to a file replaced atomically, so a
//! crash or a full disk mid-write never leaves a half-written picture where an old one was.

use std::fmt;
use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use flate2::write::ZlibEncoder;
use flate2::{Compression, Crc};

use super::canvas::Image;

/// Saving a plot failed: which file, and the operating system's reason.
#[derive(Debug)]
pub struct PlotError {
    path: PathBuf,
    source: io::Error,
}

impl PlotError {
    /// The file that could not be written.
    ///
    /// ```
    /// use tapegrad::plot::{Image, color::WHITE};
    /// let path = std::path::Path::new("/no/such/dir/plot.png");
    /// let error = Image::new(2, 2, WHITE).save_png(path).unwrap_err();
    /// assert_eq!(error.path(), path);
    /// ```
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl fmt::Display for PlotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot write PNG {}: {}", self.path.display(), self.source)
    }
}

impl std::error::Error for PlotError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// Numbers each save, so parallel saves of one process never share a temporary file.
static SAVES: AtomicUsize = AtomicUsize::new(0);

impl Image {
    /// The image encoded as an 8-bit RGB PNG file, in memory.
    ///
    /// ```
    /// use tapegrad::plot::{Image, color::WHITE};
    /// let bytes = Image::new(3, 2, WHITE).to_png_bytes();
    /// assert_eq!(&bytes[1..4], b"PNG");
    /// ```
    ///
    /// # Panics
    /// If a side is longer than PNG allows (2³¹ − 1 pixels); a Vec never refuses a write.
    #[track_caller]
    pub fn to_png_bytes(&self) -> Vec<u8> {
        let mut bytes = Vec::new();
        if let Err(error) = self.write_png(&mut bytes) {
            panic!("Image::to_png_bytes: {error}");
        }
        bytes
    }

    /// Writes the image as PNG to `path`, atomically: the picture goes to a temporary file
    /// next to it, which then replaces `path` in one rename. If anything fails, `path` keeps
    /// its previous content and the temporary file is removed.
    ///
    /// # Errors
    /// A [`PlotError`] naming `path` if the directory is missing or not writable, the disk
    /// is full, or `path` is a directory.
    ///
    /// ```
    /// use tapegrad::plot::{Image, color::WHITE};
    /// let path = std::env::temp_dir().join("tapegrad-doc-save.png");
    /// Image::new(8, 8, WHITE).save_png(&path)?;
    /// assert!(path.exists());
    /// # std::fs::remove_file(&path).unwrap();
    /// let missing = std::env::temp_dir().join("no-such-dir/x.png");
    /// assert!(Image::new(8, 8, WHITE).save_png(&missing).unwrap_err().to_string().contains("no-such-dir"));
    /// # Ok::<(), tapegrad::plot::PlotError>(())
    /// ```
    pub fn save_png(&self, path: impl AsRef<Path>) -> Result<(), PlotError> {
        self.save_png_at(path.as_ref())
    }

    // Not generic, so it is compiled once here rather than in every program that saves.
    fn save_png_at(&self, path: &Path) -> Result<(), PlotError> {
        let error = |source| PlotError { path: path.to_path_buf(), source };
        let Some(name) = path.file_name() else {
            return Err(error(io::Error::new(io::ErrorKind::InvalidInput, "the path names no file")));
        };
        let serial = SAVES.fetch_add(1, Ordering::Relaxed);
        let mut temp_name = std::ffi::OsString::from(".");
        temp_name.push(name);
        temp_name.push(format!(".{}.{serial}.tmp", std::process::id()));
        let temp = path.with_file_name(temp_name);

        let written = File::create_new(&temp).and_then(|file| {
            let mut writer = BufWriter::new(file);
            self.write_png(&mut writer)?;
            writer.into_inner().map_err(io::IntoInnerError::into_error)?.sync_all()?;
            fs::rename(&temp, path)
        });
        if written.is_err() {
            // Best effort: the temporary may not exist if creating it was what failed.
            let _ = fs::remove_file(&temp);
        }
        written.map_err(error)
    }

    /// PNG as the specification lays it out: the signature, an `IHDR` chunk (8-bit RGB,
    /// not interlaced), `IDAT` chunks of at most 1 MiB holding the zlib-compressed rows,
    /// each row led by the filter that makes it smallest, and `IEND`. flate2 does the
    /// compressing; this is only the framing.
    fn write_png(&self, out: &mut dyn Write) -> io::Result<()> {
        let side = |n: usize| {
            u32::try_from(n).ok().filter(|&n| (1..1 << 31).contains(&n)).ok_or_else(|| {
                let message = format!("{}x{}: PNG sides are 1 to 2³¹ − 1 pixels", self.width(), self.height());
                io::Error::new(io::ErrorKind::InvalidInput, message)
            })
        };
        let mut header = Vec::with_capacity(13);
        header.extend_from_slice(&side(self.width())?.to_be_bytes());
        header.extend_from_slice(&side(self.height())?.to_be_bytes());
        header.extend_from_slice(&[8, 2, 0, 0, 0]); // bit depth, RGB, deflate, adaptive filters, no interlace

        let mut zlib = ZlibEncoder::new(Vec::new(), Compression::default());
        let row_bytes = 3 * self.width();
        let (mut previous, mut filtered) = (vec![0u8; row_bytes], vec![0u8; row_bytes]);
        for row in self.pixels().chunks(self.width()) {
            let row = row.as_flattened();
            let filter = best_filter(row, &previous, &mut filtered);
            zlib.write_all(&[filter])?;
            zlib.write_all(&filtered)?;
            previous.copy_from_slice(row);
        }
        let data = zlib.finish()?;

        out.write_all(b"\x89PNG\r\n\x1a\n")?;
        write_chunk(out, b"IHDR", &header)?;
        for part in data.chunks(1 << 20) {
            write_chunk(out, b"IDAT", part)?;
        }
        write_chunk(out, b"IEND", &[])?;
        out.flush()
    }
}

/// One chunk: its length, type, data and the CRC-32 of type and data. (Callers keep `data`
/// far below PNG's limit of 2³¹ − 1 bytes.)
fn write_chunk(out: &mut dyn Write, kind: &[u8; 4], data: &[u8]) -> io::Result<()> {
    let length = u32::try_from(data.len()).expect("a chunk of at most 1 MiB");
    let mut crc = Crc::new();
    crc.update(kind);
    crc.update(data);
    out.write_all(&length.to_be_bytes())?;
    out.write_all(kind)?;
    out.write_all(data)?;
    out.write_all(&crc.sum().to_be_bytes())
}

/// Filters `row` (RGB bytes) against the row above with each of PNG's five filters and
/// keeps in `out` the one whose bytes, read as signed, sum smallest in magnitude (the
/// specification's suggested heuristic); returns the filter's number.
fn best_filter(row: &[u8], above: &[u8], out: &mut [u8]) -> u8 {
    const BPP: usize = 3; // bytes per pixel
    let predict = |filter: u8, i: usize| {
        let left = if i >= BPP { row[i - BPP] } else { 0 };
        let up_left = if i >= BPP { above[i - BPP] } else { 0 };
        match filter {
            0 => 0,
            1 => left,
            2 => above[i],
            3 => ((u16::from(left) + u16::from(above[i])) / 2) as u8,
            _ => paeth(left, above[i], up_left),
        }
    };
    let cost = |filter: u8| -> u64 {
        (0..row.len()).map(|i| u64::from((row[i].wrapping_sub(predict(filter, i)) as i8).unsigned_abs())).sum()
    };
    let best = (0..5u8).min_by_key(|&f| cost(f)).unwrap_or(0);
    for (i, o) in out.iter_mut().enumerate() {
        *o = row[i].wrapping_sub(predict(best, i));
    }
    best
}

/// PNG's Paeth predictor: whichever of left, above and upper-left is closest to
/// left + above − upper-left.
fn paeth(a: u8, b: u8, c: u8) -> u8 {
    let p = i16::from(a) + i16::from(b) - i16::from(c);
    let (pa, pb, pc) = ((p - i16::from(a)).abs(), (p - i16::from(b)).abs(), (p - i16::from(c)).abs());
    if pa <= pb && pa <= pc {
        a
    } else if pb <= pc {
        b
    } else {
        c
    }
}

#[cfg(test)]
#[path = "../../tests/support/png_decoder.rs"]
mod png_decoder;

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::super::color::{BLACK, WHITE};
    use super::*;

    /// The image in PNG `bytes`, read by the tests' own decoder.
    fn decode(bytes: &[u8]) -> Image {
        let (width, height, pixels) = super::png_decoder::decode_rgb(bytes);
        Image::from_pixels(width, height, pixels)
    }

    fn scratch_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("tapegrad-plot-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn sample() -> Image {
        let mut image = Image::new(7, 5, WHITE);
        image.line(0, 0, 6, 4, BLACK);
        image.set_pixel(6, 0, [12, 200, 99]);
        image
    }

    #[test]
    fn png_bytes_decode_to_the_same_pixels() {
        let image = sample();
        assert_eq!(decode(&image.to_png_bytes()), image);
    }

    #[test]
    fn every_filter_is_chosen_somewhere_and_decodes_exactly() {
        // Rows built so that each of the five filters wins on some row: flat (None), a ramp
        // along the row (Sub), a copy of the row above (Up), the mean of both (Average),
        // and a plane (Paeth); then noise. The independent decoder must give the pixels back.
        let (width, height) = (37, 60);
        let mut state = 12345u32;
        let mut noise = || {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (state >> 24) as u8
        };
        let mut pixels = Vec::new();
        for y in 0..height {
            for x in 0..width {
                let v = match y % 6 {
                    0 => 77,
                    1 => (x * 5) as u8,
                    2 => ((x * 5) as u8).wrapping_add(3),
                    3 => ((x * 3 + y * 7) % 256) as u8,
                    4 => ((x * 11 + y * 13) % 256) as u8,
                    _ => noise(),
                };
                pixels.push([v, v.wrapping_mul(3), 255 - v]);
            }
        }
        let image = Image::from_pixels(width, height, pixels);
        let bytes = image.to_png_bytes();
        assert_eq!(decode(&bytes), image);
        // The filter bytes in the decompressed data: one per row, at each row's start.
        let idat = bytes.windows(4).position(|w| w == b"IDAT").unwrap() + 4;
        let mut raw = Vec::new();
        flate2::read::ZlibDecoder::new(&bytes[idat..]).read_to_end(&mut raw).unwrap();
        let filters: std::collections::BTreeSet<u8> = raw.chunks(1 + 3 * width).map(|row| row[0]).collect();
        assert!(filters.len() >= 3, "filters used: {filters:?}");
        assert!(filters.iter().all(|&f| f <= 4));
    }

    #[test]
    fn large_images_span_several_data_chunks() {
        // Noise barely compresses: 720×720 RGB is about 1.5 MB of zlib data, two IDAT chunks.
        let mut state = 99u64;
        let pixels = (0..720 * 720)
            .map(|_| {
                state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                let b = state.to_le_bytes();
                [b[5], b[6], b[7]]
            })
            .collect();
        let image = Image::from_pixels(720, 720, pixels);
        let bytes = image.to_png_bytes();
        assert!(bytes.windows(4).filter(|w| w == b"IDAT").count() >= 2);
        assert_eq!(decode(&bytes), image);
    }

    #[test]
    fn save_replaces_the_file_and_leaves_no_temporary() {
        let dir = scratch_dir("save");
        let path = dir.join("plot.png");
        Image::new(2, 2, BLACK).save_png(&path).unwrap();
        sample().save_png(&path).unwrap();
        assert_eq!(decode(&fs::read(&path).unwrap()), sample());
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1, "only plot.png remains");
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn missing_directory_is_an_error_naming_the_path() {
        let dir = scratch_dir("missing");
        let path = dir.join("absent").join("plot.png");
        let error = sample().save_png(&path).unwrap_err();
        assert_eq!(error.path(), path);
        assert!(error.to_string().contains(&path.display().to_string()), "{error}");
        assert!(std::error::Error::source(&error).is_some());
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 0);
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn failed_save_keeps_what_was_there() {
        // A directory where the file should go: the rename fails after the PNG was written.
        let dir = scratch_dir("keep");
        let path = dir.join("plot.png");
        fs::create_dir(&path).unwrap();
        fs::write(path.join("notes.txt"), "keep me").unwrap();
        let error = sample().save_png(&path).unwrap_err();
        assert_eq!(error.path(), path);
        assert_eq!(fs::read_to_string(path.join("notes.txt")).unwrap(), "keep me");
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1, "the temporary file was removed");
        fs::remove_dir_all(dir).unwrap();
    }
}
