//! Fixtures the tests generate: temporary folders, small MNIST, CIFAR and California files,
//! gzip and tar packing, and an HTTP server on 127.0.0.1 that serves fixture bytes.
#![allow(dead_code)] // each test binary uses its own part of this module

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tapegrad_datasets::sha256::Sha256;

mod temp_dir;
pub use temp_dir::TempDir;

pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(data).unwrap();
    gz.finish().unwrap()
}

pub fn sha256_hex(data: &[u8]) -> String {
    let mut hash = Sha256::new();
    hash.update(data);
    hash.hex()
}

/// A tar archive of `(name, bytes)` members (POSIX ustar headers, names under 100 bytes),
/// gzipped. The reader is also tested on archives GNU tar wrote (datasets/tests/fixtures).
pub fn tar_gz(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut tar = Vec::new();
    for (name, data) in members {
        let mut header = [0u8; 512];
        header[..name.len()].copy_from_slice(name.as_bytes());
        header[100..108].copy_from_slice(b"0000644\0");
        header[124..136].copy_from_slice(format!("{:011o}\0", data.len()).as_bytes());
        header[136..148].copy_from_slice(b"00000000000\0");
        header[156] = b'0';
        header[257..265].copy_from_slice(b"ustar\x0000"); // magic "ustar\0", version "00"
        header[148..156].fill(b' ');
        let sum: u32 = header.iter().map(|&b| b as u32).sum();
        header[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        tar.extend_from_slice(&header);
        tar.extend_from_slice(data);
        tar.resize(tar.len().div_ceil(512) * 512, 0);
    }
    tar.resize(tar.len() + 1024, 0);
    gzip(&tar)
}

/// The pixel and label of a generated MNIST-style fixture.
pub fn pixel(image: usize, at: usize) -> u8 {
    ((image * 31 + at * 7) % 256) as u8
}

pub fn label(image: usize) -> u8 {
    ((image * 3 + 1) % 10) as u8
}

/// The IDX bytes of `n` 28×28 images and their labels.
pub fn mnist_split(n: usize) -> (Vec<u8>, Vec<u8>) {
    let pixels: Vec<u8> = (0..n).flat_map(|i| (0..784).map(move |j| pixel(i, j))).collect();
    let labels: Vec<u8> = (0..n).map(label).collect();
    (tapegrad_datasets::idx::encode(&[n, 28, 28], &pixels), tapegrad_datasets::idx::encode(&[n], &labels))
}

pub const MNIST_NAMES: [&str; 4] =
    ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"];

/// The four MNIST files' bytes (uncompressed) for `train` and `test` images.
pub fn mnist_files(train: usize, test: usize) -> [Vec<u8>; 4] {
    let (a, b) = mnist_split(train);
    let (c, d) = mnist_split(test);
    [a, b, c, d]
}

/// Writes the four files into `dir`, gzipped as `<name>.gz` if `gz`.
pub fn write_mnist(dir: &Path, train: usize, test: usize, gz: bool) {
    for (name, bytes) in MNIST_NAMES.iter().zip(mnist_files(train, test)) {
        if gz {
            std::fs::write(dir.join(format!("{name}.gz")), gzip(&bytes)).unwrap();
        } else {
            std::fs::write(dir.join(name), bytes).unwrap();
        }
    }
}

pub const CIFAR_RECORD: usize = 3073;
pub const CIFAR_NAMES: [&str; 6] = [
    "data_batch_1.bin",
    "data_batch_2.bin",
    "data_batch_3.bin",
    "data_batch_4.bin",
    "data_batch_5.bin",
    "test_batch.bin",
];

/// One CIFAR batch file of `records` records; file `file` (0–5) gets its own labels and pixels.
pub fn cifar_batch(file: usize, records: usize) -> Vec<u8> {
    (0..records)
        .flat_map(|r| {
            let label = ((file * 7 + r) % 10) as u8;
            std::iter::once(label).chain((0..3072).map(move |p| ((file * 13 + r * 5 + p) % 256) as u8))
        })
        .collect()
}

pub fn write_cifar(dir: &Path, records: usize) {
    std::fs::create_dir_all(dir).unwrap();
    for (i, name) in CIFAR_NAMES.iter().enumerate() {
        std::fs::write(dir.join(name), cifar_batch(i, records)).unwrap();
    }
}

/// A StatLib `cal_housing.data` row for block group `i` (households never 0).
pub fn statlib_row(i: usize) -> [f64; 9] {
    let f = i as f64;
    [
        -124.0 + (i % 100) as f64 * 0.05,
        32.5 + (i % 90) as f64 * 0.1,
        1.0 + (i % 52) as f64,
        100.0 + f * 3.0,
        20.0 + (i % 400) as f64,
        50.0 + (i % 3000) as f64,
        10.0 + (i % 200) as f64,
        0.5 + (i % 140) as f64 * 0.1,
        15000.0 + (i % 4000) as f64 * 100.0,
    ]
}

pub fn statlib_text(rows: usize) -> String {
    (0..rows).map(|i| statlib_row(i).iter().map(|v| format!("{v:.6}")).collect::<Vec<_>>().join(",") + "\n").collect()
}

/// scikit-learn's presentation of the same rows, header first.
pub fn sklearn_csv(rows: usize) -> String {
    let mut out = String::from(tapegrad_datasets::CaliforniaHousing::CSV_HEADER);
    out.push('\n');
    for i in 0..rows {
        // Parse the StatLib text back so both files hold the same rounded numbers.
        let r: Vec<f64> = statlib_row(i).iter().map(|v| format!("{v:.6}").parse().unwrap()).collect();
        let derived = [r[7], r[2], r[3] / r[6], r[4] / r[6], r[5], r[5] / r[6], r[1], r[0], r[8] / 100_000.0];
        out.push_str(&derived.iter().map(|v| format!("{v:?}")).collect::<Vec<_>>().join(","));
        out.push('\n');
    }
    out
}

/// An HTTP/1.1 server on 127.0.0.1 answering GET `/<path>` with the bytes registered for
/// it (404 otherwise). It serves at most `max_requests` connections within a minute, then
/// stops by itself.
pub struct Server {
    pub base_url: String,
    pub requests: Arc<Mutex<Vec<String>>>,
}

pub fn serve(files: HashMap<String, Vec<u8>>, max_requests: usize) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base_url = format!("http://{}/", listener.local_addr().unwrap());
    listener.set_nonblocking(true).unwrap();
    let requests = Arc::new(Mutex::new(Vec::new()));
    let log = requests.clone();
    std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut served = 0;
        while served < max_requests && Instant::now() < deadline {
            match listener.accept() {
                Ok((stream, _)) => {
                    served += 1;
                    if let Some(path) = answer(stream, &files) {
                        log.lock().unwrap().push(path);
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => std::thread::sleep(Duration::from_millis(5)),
                Err(_) => break,
            }
        }
    });
    Server { base_url, requests }
}

fn answer(stream: TcpStream, files: &HashMap<String, Vec<u8>>) -> Option<String> {
    stream.set_nonblocking(false).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line).ok()?;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 || line == "\r\n" {
            break;
        }
    }
    let path = request_line.split_whitespace().nth(1)?.trim_start_matches('/').to_string();
    let mut stream = stream;
    match files.get(&path) {
        Some(body) => {
            let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
            stream.write_all(head.as_bytes()).ok()?;
            stream.write_all(body).ok()?;
        }
        None => {
            let body = b"not here";
            let head = format!("HTTP/1.1 404 Not Found\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
            stream.write_all(head.as_bytes()).ok()?;
            stream.write_all(body).ok()?;
        }
    }
    Some(path)
}

/// A base URL on 127.0.0.1 where nothing listens: connections are refused.
pub fn refused_base_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}/")
}
