//! A labelled set of small images as the files hold them: one byte per pixel, channel planes
//! per image (`[n, c, h, w]`), and a class label per image.
//!
//! Bytes are a quarter of the size of `f32`, so loaders keep them; [`ImageSet::into_dataset`]
//! turns them into `f32` in `[0, 1]` in one pass and frees them, so the bytes and the floats
//! are never held longer than that pass.

use tapegrad_autograd::Indices;

use crate::dataset::{Dataset, Targets};
use crate::error::DataError;
use crate::scale::pixels_to_tensor;

/// Images `[n, channels, height, width]` of bytes with a label each.
///
/// ```
/// use tapegrad_datasets::ImageSet;
/// let set = ImageSet::new(vec![0, 255, 255, 0], vec![1, 0], [1, 1, 2], &["dark", "light"]).unwrap();
/// assert_eq!((set.len(), set.image(1), set.label(1)), (2, &[255u8, 0][..], 0));
/// let data = set.into_dataset();
/// assert_eq!(data.inputs.shape(), &[2, 2]);
/// assert_eq!(data.inputs.to_vec(), vec![0.0, 1.0, 1.0, 0.0]);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageSet {
    pixels: Vec<u8>,
    labels: Vec<u8>,
    shape: [usize; 3],
    classes: &'static [&'static str],
}

impl ImageSet {
    /// Images from `pixels` (`n · c · h · w` bytes, each image's channel planes in turn),
    /// `labels` (`n`), the image shape `[c, h, w]` and the class names.
    ///
    /// # Errors
    /// [`DataError::LengthMismatch`] if the pixel and label counts disagree;
    /// [`DataError::Format`] (offset = the label's index) if a label is not below the number
    /// of classes.
    pub fn new(
        pixels: Vec<u8>,
        labels: Vec<u8>,
        shape: [usize; 3],
        classes: &'static [&'static str],
    ) -> Result<ImageSet, DataError> {
        let per_image: usize = shape.iter().product();
        if pixels.len() != labels.len() * per_image {
            return Err(DataError::LengthMismatch {
                inputs: vec![pixels.len() / per_image.max(1), shape[0], shape[1], shape[2]],
                targets: vec![labels.len()],
            });
        }
        if let Some((i, &label)) = labels.iter().enumerate().find(|(_, l)| **l as usize >= classes.len()) {
            return Err(DataError::Format {
                path: "labels".into(),
                offset: i as u64,
                expected: format!("a label below {}", classes.len()),
                found: label.to_string(),
            });
        }
        Ok(ImageSet { pixels, labels, shape, classes })
    }

    /// The number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there are no images.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The shape of one image, `[channels, height, width]`.
    pub fn image_shape(&self) -> [usize; 3] {
        self.shape
    }

    /// The bytes of image `i`, channel planes in turn.
    ///
    /// # Panics
    /// If `i` is out of range.
    #[track_caller]
    pub fn image(&self, i: usize) -> &[u8] {
        let size = self.shape.iter().product::<usize>();
        &self.pixels[i * size..(i + 1) * size]
    }

    /// The label of image `i`.
    ///
    /// # Panics
    /// If `i` is out of range.
    #[track_caller]
    pub fn label(&self, i: usize) -> usize {
        self.labels[i] as usize
    }

    /// All pixels, image after image.
    pub fn pixels(&self) -> &[u8] {
        &self.pixels
    }

    /// All labels.
    pub fn labels(&self) -> &[u8] {
        &self.labels
    }

    /// The class names, indexed by label.
    pub fn classes(&self) -> &'static [&'static str] {
        self.classes
    }

    /// Inputs `[n, c·h·w]` in `[0, 1]` with class targets: for fully connected models.
    /// Consumes the set, so the bytes are freed as soon as the floats are written.
    pub fn into_dataset(self) -> Dataset {
        let per_image = self.shape.iter().product();
        self.into_shaped(&[per_image])
    }

    /// Inputs `[n, c, h, w]` in `[0, 1]` with class targets: for convolutional models.
    pub fn into_images(self) -> Dataset {
        let shape = self.shape;
        self.into_shaped(&shape)
    }

    fn into_shaped(self, per_image: &[usize]) -> Dataset {
        let n = self.len();
        let mut shape = vec![n];
        shape.extend_from_slice(per_image);
        let inputs = pixels_to_tensor(&self.pixels, &shape);
        drop(self.pixels);
        let labels = self.labels.iter().map(|&l| l as usize).collect();
        let targets = Targets::Classes(Indices::new(labels, &[n]).expect("one label per image"));
        Dataset::new(inputs, targets).expect("one label per image")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_labels_and_counts_are_errors() {
        let err = ImageSet::new(vec![0; 4], vec![0, 3], [1, 1, 2], &["a", "b"]).unwrap_err();
        assert_eq!(err.to_string(), "labels: offset 1: expected a label below 2, found 3");
        assert!(ImageSet::new(vec![0; 5], vec![0, 1], [1, 1, 2], &["a", "b"]).is_err());
    }

    #[test]
    fn images_keep_channel_planes() {
        let set = ImageSet::new((0..12).collect(), vec![0, 1], [3, 1, 2], &["a", "b"]).unwrap();
        let data = set.into_images();
        assert_eq!(data.inputs.shape(), &[2, 3, 1, 2]);
        assert_eq!(data.inputs.get(&[1, 2, 0, 1]), 11.0 / 255.0);
        assert_eq!(data.targets.classes().unwrap().to_vec(), vec![0, 1]);
    }
}
