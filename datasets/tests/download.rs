//! Downloads from an HTTP server the test starts on 127.0.0.1: files that match their
//! SHA-256 are kept, a corrupted one is refused and leaves nothing behind, and a refused
//! connection, a 404 or a missing curl say which files to place where.
#![cfg(feature = "download")]

mod common;

use std::collections::HashMap;

use common::{MNIST_NAMES, TempDir, gzip, mnist_files, refused_base_url, serve, sha256_hex, statlib_text, tar_gz};
use tapegrad_datasets::{CaliforniaHousing, DataError, Downloader, Mnist, RemoteFile, Source, Verify};

/// MNIST-style fixtures served gzipped, with the SHA-256 of their IDX bytes (as for MNIST).
fn mnist_source(files: &[Vec<u8>; 4]) -> Source {
    let remote = MNIST_NAMES
        .iter()
        .zip(files)
        .map(|(name, bytes)| RemoteFile {
            name: format!("{name}.gz"),
            url_path: format!("mnist/{name}.gz"),
            sha256: sha256_hex(bytes),
            verify: Verify::Gunzipped,
        })
        .collect();
    Source { dataset: "mnist".into(), base_url: String::new(), files: remote }
}

fn served(files: &[Vec<u8>; 4]) -> HashMap<String, Vec<u8>> {
    MNIST_NAMES.iter().zip(files).map(|(n, b)| (format!("mnist/{n}.gz"), gzip(b))).collect()
}

#[test]
fn verified_files_are_downloaded_and_loaded() {
    let files = mnist_files(4, 2);
    let server = serve(served(&files), 8);
    let dir = TempDir::new("dl-ok");
    let source = mnist_source(&files).with_base_url(&server.base_url);
    let mnist = Mnist::load_or_download_from(dir.path(), &source, &Downloader::new()).unwrap();
    assert_eq!((mnist.train.len(), mnist.test.len()), (4, 2));
    let names: Vec<String> = MNIST_NAMES.iter().map(|n| format!("{n}.gz")).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(dir.names(), sorted, "the four files and nothing else (no temporary files)");
    // A second call finds every file and fetches nothing.
    Mnist::load_or_download_from(dir.path(), &source, &Downloader::new()).unwrap();
    assert_eq!(server.requests.lock().unwrap().len(), 4);
}

#[test]
fn a_corrupted_file_is_refused_and_not_kept() {
    let files = mnist_files(3, 1);
    let mut bytes = served(&files);
    let key = format!("mnist/{}.gz", MNIST_NAMES[1]);
    let mut bad = files[1].clone();
    bad[9] ^= 0x01; // a label changed: still a valid IDX file, but not the published one
    bytes.insert(key, gzip(&bad));
    let server = serve(bytes, 8);
    let dir = TempDir::new("dl-corrupt");
    let source = mnist_source(&files).with_base_url(&server.base_url);
    let err = Mnist::load_or_download_from(dir.path(), &source, &Downloader::new()).unwrap_err();
    let target = dir.path().join("train-labels-idx1-ubyte.gz");
    let DataError::Checksum { path, url, expected, found } = &err else { panic!("{err:?}") };
    assert_eq!((path, expected, found), (&target, &sha256_hex(&files[1]), &sha256_hex(&bad)));
    assert_eq!(url, &format!("{}mnist/train-labels-idx1-ubyte.gz", server.base_url));
    assert_eq!(
        err.to_string(),
        format!(
            "{}: SHA-256 mismatch for {url}: expected {}, found {}; the download was discarded",
            target.display(),
            sha256_hex(&files[1]),
            sha256_hex(&bad)
        )
    );
    // The file before it was kept; the corrupted one and every temporary file are gone.
    assert_eq!(dir.names(), vec!["train-images-idx3-ubyte.gz".to_string()]);
}

#[test]
fn a_damaged_gzip_is_refused_and_not_kept() {
    let files = mnist_files(2, 1);
    let mut bytes = served(&files);
    let key = format!("mnist/{}.gz", MNIST_NAMES[0]);
    let whole = bytes[&key].clone();
    bytes.insert(key, whole[..whole.len() - 8].to_vec());
    let server = serve(bytes, 4);
    let dir = TempDir::new("dl-gzip");
    let source = mnist_source(&files).with_base_url(&server.base_url);
    let err = Mnist::load_or_download_from(dir.path(), &source, &Downloader::new()).unwrap_err();
    assert!(matches!(err, DataError::Gzip { .. }), "{err:?}");
    assert!(err.to_string().contains("and discarded"), "{err}");
    assert!(dir.names().is_empty(), "{:?}", dir.names());
}

#[test]
fn offline_the_error_says_which_files_to_place_where() {
    let files = mnist_files(1, 1);
    let base = refused_base_url();
    let dir = TempDir::new("dl-offline");
    let source = mnist_source(&files).with_base_url(&base);
    let err = Mnist::load_or_download_from(dir.path(), &source, &Downloader::new()).unwrap_err();
    let DataError::Download { place, url, .. } = &err else { panic!("{err:?}") };
    assert_eq!(url, &format!("{base}mnist/train-images-idx3-ubyte.gz"));
    assert_eq!(place.len(), 4);
    let message = err.to_string();
    assert!(message.starts_with(&format!("mnist: could not download {url}: curl: (7)")), "{message}");
    for name in MNIST_NAMES {
        let line = format!("\n  {}/{name}.gz (from {base}mnist/{name}.gz)", dir.path().display());
        assert!(message.contains(&line), "{message}\nlacks{line}");
    }
    assert!(message.contains("place these files here:"), "{message}");
    assert!(dir.names().is_empty(), "{:?}", dir.names());
}

#[test]
fn a_server_error_names_the_status() {
    let files = mnist_files(1, 1);
    let server = serve(HashMap::new(), 2);
    let dir = TempDir::new("dl-404");
    let source = mnist_source(&files).with_base_url(&server.base_url);
    let err = Mnist::load_or_download_from(dir.path(), &source, &Downloader::new()).unwrap_err().to_string();
    assert!(err.contains("404") && err.contains("(curl exit code 22)"), "{err}");
    assert!(dir.names().is_empty());
}

#[test]
fn without_curl_the_error_says_so_and_lists_the_files() {
    let files = mnist_files(1, 1);
    let dir = TempDir::new("dl-no-curl");
    let source = mnist_source(&files).with_base_url("http://127.0.0.1:9/");
    let downloader = Downloader::new().curl("/nonexistent/curl");
    let err = Mnist::load_or_download_from(dir.path(), &source, &downloader).unwrap_err().to_string();
    assert!(err.contains("the program `/nonexistent/curl` was not found; install curl"), "{err}");
    assert_eq!(err.matches("(from http://127.0.0.1:9/mnist/").count(), 4, "{err}");
}

#[test]
fn california_housing_downloads_its_archive() {
    let tgz = tar_gz(&[("CaliforniaHousing/cal_housing.data", statlib_text(CaliforniaHousing::ROWS).as_bytes())]);
    let server = serve(HashMap::from([("files/5976036".to_string(), tgz.clone())]), 2);
    let mut source = Source::california_housing().with_base_url(format!("{}files/", server.base_url));
    source.files[0].sha256 = sha256_hex(&tgz);
    let dir = TempDir::new("dl-california");
    let table = CaliforniaHousing::load_or_download_from(dir.path(), &source, &Downloader::new()).unwrap();
    assert_eq!(table.len(), CaliforniaHousing::ROWS);
    assert_eq!(dir.names(), vec!["cal_housing.tgz".to_string()]);
    // The published hash refuses this fixture: what is served is checked, not trusted.
    let dir = TempDir::new("dl-california-real-hash");
    let server = serve(HashMap::from([("files/5976036".to_string(), tgz)]), 2);
    let source = Source::california_housing().with_base_url(format!("{}files/", server.base_url));
    let err = CaliforniaHousing::load_or_download_from(dir.path(), &source, &Downloader::new()).unwrap_err();
    assert!(matches!(err, DataError::Checksum { .. }), "{err:?}");
    assert!(dir.names().is_empty());
}
