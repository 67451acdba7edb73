//! Writing an [`Image`] as PNG: to bytes in memory, or to a file replaced atomically, so a
//! crash or a full disk mid-write never leaves a half-written picture where an old one was.

use std::fmt;
use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

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
    /// let missing = std::env::temp_dir().join("no-such-dir/x.png");
    /// assert!(Image::new(8, 8, WHITE).save_png(&missing).unwrap_err().to_string().contains("no-such-dir"));
    /// # Ok::<(), tapegrad::plot::PlotError>(())
    /// ```
    pub fn save_png(&self, path: impl AsRef<Path>) -> Result<(), PlotError> {
        let path = path.as_ref();
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

    fn write_png(&self, out: impl Write) -> io::Result<()> {
        let side = |n: usize| {
            u32::try_from(n).ok().filter(|&n| n < 1 << 31).ok_or_else(|| {
                let message = format!("{}x{} is larger than PNG allows", self.width(), self.height());
                io::Error::new(io::ErrorKind::InvalidInput, message)
            })
        };
        let mut encoder = png::Encoder::new(out, side(self.width())?, side(self.height())?);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.set_compression(png::Compression::Balanced);
        let mut writer = encoder.write_header()?;
        writer.write_image_data(self.pixels().as_flattened())?;
        writer.finish()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::color::{BLACK, WHITE};
    use super::*;

    /// Decodes PNG bytes with the `png` crate, independently of the encoder above.
    fn decode(bytes: &[u8]) -> Image {
        let mut reader = png::Decoder::new(io::Cursor::new(bytes)).read_info().unwrap();
        let mut buffer = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buffer).unwrap();
        assert_eq!((info.color_type, info.bit_depth), (png::ColorType::Rgb, png::BitDepth::Eight));
        let pixels = buffer[..info.buffer_size()].chunks(3).map(|p| [p[0], p[1], p[2]]).collect();
        Image::from_pixels(info.width as usize, info.height as usize, pixels)
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
