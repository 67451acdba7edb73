//! A PNG reader for tests, written from the specification apart from the encoder: it checks
//! the signature, every chunk's CRC and the header (8-bit RGB, not interlaced, as
//! `Image::save_png` writes), inflates the data and undoes each row's filter. It panics,
//! naming the offset, on anything else.

use std::io::Read;

/// The width, height and pixels (row by row from the top) of the image in `bytes`.
pub fn decode_rgb(bytes: &[u8]) -> (usize, usize, Vec<[u8; 3]>) {
    assert_eq!(bytes.get(..8), Some(&b"\x89PNG\r\n\x1a\n"[..]), "not a PNG signature");
    let (mut at, mut header, mut data, mut ended) = (8, None, Vec::new(), false);
    while at < bytes.len() {
        let word = |i: usize| u32::from_be_bytes(bytes[i..i + 4].try_into().unwrap());
        let length = word(at) as usize;
        let (kind, body) = (&bytes[at + 4..at + 8], &bytes[at + 8..at + 8 + length]);
        let mut crc = flate2::Crc::new();
        crc.update(&bytes[at + 4..at + 8 + length]);
        assert_eq!(
            crc.sum(),
            word(at + 8 + length),
            "bad CRC of chunk {:?} at offset {at}",
            String::from_utf8_lossy(kind)
        );
        match kind {
            b"IHDR" => header = Some((word(at + 8) as usize, word(at + 12) as usize, body[8..].to_vec())),
            b"IDAT" => data.extend_from_slice(body),
            b"IEND" => ended = true,
            other => assert!(other[0].is_ascii_lowercase(), "unknown critical chunk {other:?} at offset {at}"),
        }
        at += 12 + length;
    }
    assert!(ended, "no IEND chunk");
    let (width, height, format) = header.expect("no IHDR chunk");
    assert_eq!(format, [8, 2, 0, 0, 0], "expected 8-bit RGB, deflate, adaptive filters, no interlace");

    let mut raw = Vec::new();
    flate2::read::ZlibDecoder::new(&data[..]).read_to_end(&mut raw).expect("valid zlib data");
    let stride = 3 * width;
    assert_eq!(raw.len(), height * (1 + stride), "decompressed size");
    let mut pixels: Vec<u8> = Vec::with_capacity(height * stride);
    for (y, row) in raw.chunks(1 + stride).enumerate() {
        let (filter, row) = (row[0], &row[1..]);
        for (x, &byte) in row.iter().enumerate() {
            let a = if x >= 3 { pixels[y * stride + x - 3] } else { 0 };
            let b = if y > 0 { pixels[(y - 1) * stride + x] } else { 0 };
            let c = if x >= 3 && y > 0 { pixels[(y - 1) * stride + x - 3] } else { 0 };
            let prediction = match filter {
                0 => 0,
                1 => a,
                2 => b,
                3 => ((a as u16 + b as u16) / 2) as u8,
                4 => {
                    let p = a as i16 + b as i16 - c as i16;
                    let (pa, pb, pc) = ((p - a as i16).abs(), (p - b as i16).abs(), (p - c as i16).abs());
                    if pa <= pb && pa <= pc {
                        a
                    } else if pb <= pc {
                        b
                    } else {
                        c
                    }
                }
                other => panic!("unknown filter {other} on row {y}"),
            };
            pixels.push(byte.wrapping_add(prediction));
        }
    }
    (width, height, pixels.chunks(3).map(|p| [p[0], p[1], p[2]]).collect())
}
