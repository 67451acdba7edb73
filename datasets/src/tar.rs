//! Reading tar archives: the members of CIFAR-10's and California housing's downloads.
//!
//! A tar file is a sequence of 512-byte headers, each followed by its member's bytes padded
//! to 512; two zero blocks (or the end) close it. This reads POSIX ustar and GNU archives,
//! with GNU long names (`L` entries) and pax `path` records, which is all those downloads
//! use; every header's checksum is verified, so damage is reported where it is, with its
//! offset, instead of as garbage members. (The `tar` crate did this with five crates'
//! worth of compile time, and writing files, which we do not need.)

use std::io::Read;

const BLOCK: u64 = 512;

/// One member: its path inside the archive and its bytes.
#[derive(Debug)]
pub(crate) struct Member {
    pub(crate) name: String,
    pub(crate) data: Vec<u8>,
}

/// What was wrong with an archive: what was expected, what was found, and where.
#[derive(Debug, PartialEq)]
pub(crate) struct TarError {
    pub(crate) expected: String,
    pub(crate) found: String,
}

/// Reads the regular-file members of the archive in `reader` in order, handing each to
/// `visit` as `(name, size)`; `visit` answers whether it wants the bytes (the others are
/// skipped without being kept). Returns the members kept.
pub(crate) fn read_members(
    mut reader: impl Read,
    mut visit: impl FnMut(&str, u64) -> bool,
) -> Result<Vec<Member>, TarError> {
    let (mut offset, mut kept, mut long_name) = (0u64, Vec::new(), None::<String>);
    loop {
        let mut header = [0u8; BLOCK as usize];
        match read_block(&mut reader, &mut header)? {
            0 if offset > 0 => return Ok(kept), // the end without the closing zero blocks
            0 => return Err(err(offset, "a tar header", "an empty archive".into())),
            n if n < header.len() => return Err(err(offset, "a 512-byte tar header", format!("{n} bytes"))),
            _ => {}
        }
        if header.iter().all(|&b| b == 0) {
            return Ok(kept);
        }
        check_sum(&header).map_err(|found| err(offset, "a tar header with a valid checksum", found))?;
        let size = parse_size(&header[124..136]).ok_or_else(|| {
            err(offset + 124, "an octal member size", format!("{:?}", String::from_utf8_lossy(&header[124..136])))
        })?;
        let kind = header[156];
        let name = long_name.take().unwrap_or_else(|| header_name(&header));
        let data_offset = offset + BLOCK;
        let wanted = match kind {
            b'0' | 0 | b'7' => visit(&name, size),
            b'L' | b'x' => true, // GNU long name, pax attributes: they describe the next member
            _ => false,          // directories, links, devices: nothing to read
        };
        let mut data = Vec::new();
        if wanted {
            // The stated size only hints the capacity: a damaged header may claim gigabytes.
            data.reserve(size.min(1 << 26) as usize);
            let got = (&mut reader).take(size).read_to_end(&mut data).map_err(|e| {
                err(
                    data_offset,
                    &format!("{name}: {size} bytes"),
                    format!("a read error after {} bytes: {e}", data.len()),
                )
            })?;
            if got as u64 != size {
                return Err(err(
                    data_offset,
                    &format!("{name}: {size} bytes"),
                    format!("the archive ending after {got}"),
                ));
            }
        } else {
            skip(&mut reader, size).map_err(|got| {
                err(data_offset, &format!("{name}: {size} bytes"), format!("the archive ending after {got}"))
            })?;
        }
        let padding = (BLOCK - size % BLOCK) % BLOCK;
        skip(&mut reader, padding).map_err(|_| err(data_offset + size, "padding to 512 bytes", "the end".into()))?;
        offset = data_offset + size + padding;
        match kind {
            b'L' => long_name = Some(c_string(&data)),
            b'x' => long_name = pax_path(&data).or(long_name),
            _ if wanted => kept.push(Member { name, data }),
            _ => {}
        }
    }
}

fn err(offset: u64, expected: &str, found: String) -> TarError {
    TarError { expected: format!("{expected} at offset {offset}"), found }
}

/// Fills `block` as far as the input goes; the number of bytes read.
fn read_block(reader: &mut impl Read, block: &mut [u8]) -> Result<usize, TarError> {
    let mut filled = 0;
    while filled < block.len() {
        match reader.read(&mut block[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(err(0, "a readable archive", e.to_string())),
        }
    }
    Ok(filled)
}

/// Reads and drops `n` bytes; on a short input, how many there were.
fn skip(reader: &mut impl Read, n: u64) -> Result<(), u64> {
    match std::io::copy(&mut reader.take(n), &mut std::io::sink()) {
        Ok(got) if got == n => Ok(()),
        Ok(got) => Err(got),
        Err(_) => Err(0),
    }
}

/// The checksum: the sum of the header's bytes with its own field counted as spaces.
fn check_sum(header: &[u8; 512]) -> Result<(), String> {
    let stored = parse_octal(&header[148..156]).ok_or_else(|| "an unreadable checksum field".to_string())?;
    let sum: u64 = header.iter().enumerate().map(|(i, &b)| if (148..156).contains(&i) { 32 } else { b as u64 }).sum();
    if sum == stored { Ok(()) } else { Err(format!("checksum {stored}, but the header sums to {sum}")) }
}

/// The member's name: ustar's `prefix/name`, or the name alone.
fn header_name(header: &[u8; 512]) -> String {
    let name = c_string(&header[..100]);
    let prefix = if &header[257..263] == b"ustar\0" { c_string(&header[345..500]) } else { String::new() };
    if prefix.is_empty() { name } else { format!("{prefix}/{name}") }
}

/// Bytes up to the first NUL, as text.
fn c_string(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

/// A size field: octal digits (spaces and NULs around them), or GNU's base-256 for large sizes.
fn parse_size(field: &[u8]) -> Option<u64> {
    if field[0] & 0x80 != 0 {
        return field[1..].iter().try_fold(0u64, |n, &b| n.checked_mul(256).map(|n| n | b as u64));
    }
    parse_octal(field)
}

fn parse_octal(field: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(field).ok()?.trim_matches(|c| c == ' ' || c == '\0');
    if text.is_empty() {
        return Some(0);
    }
    u64::from_str_radix(text, 8).ok()
}

/// The `path` of a pax extended header: records `"<length> path=<value>\n"`.
fn pax_path(data: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(data);
    text.lines().find_map(|record| record.split_once(' ')?.1.strip_prefix("path=").map(str::to_string))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An archive made by GNU tar 1.34 (`tar --format=gnu`), with a name over 100 bytes,
    /// a directory and an empty file; and the same members in POSIX pax format.
    const GNU: &[u8] = include_bytes!("../tests/fixtures/gnu.tar");
    const PAX: &[u8] = include_bytes!("../tests/fixtures/pax.tar");

    fn all(bytes: &[u8]) -> Result<Vec<(String, Vec<u8>)>, TarError> {
        Ok(read_members(bytes, |_, _| true)?.into_iter().map(|m| (m.name, m.data)).collect())
    }

    #[test]
    fn reads_what_gnu_tar_wrote() {
        for archive in [GNU, PAX] {
            let members = all(archive).unwrap();
            let names: Vec<&str> = members.iter().map(|(n, _)| n.as_str()).collect();
            let long = format!("dir/{}.txt", "long".repeat(30));
            assert_eq!(names, ["dir/hello.txt", long.as_str(), "dir/empty"]);
            assert_eq!(members[0].1, b"hello, tar\n");
            assert_eq!(members[1].1.len(), 1000);
            assert!(members[1].1.iter().enumerate().all(|(i, &b)| b == b'a' + (i % 26) as u8));
            assert!(members[2].1.is_empty());
        }
    }

    #[test]
    fn skipped_members_are_not_kept() {
        let kept = read_members(GNU, |name, size| name.ends_with("hello.txt") && size == 11).unwrap();
        assert_eq!(kept.len(), 1);
    }

    #[test]
    fn damage_is_named_with_its_offset() {
        let mut flipped = GNU.to_vec();
        flipped[3] ^= 1; // in the first header's name
        let e = all(&flipped).unwrap_err();
        assert_eq!(e.expected, "a tar header with a valid checksum at offset 0");
        assert!(e.found.starts_with("checksum "), "{}", e.found);

        // The directory's header is at 0, hello.txt's at 512, its 11 bytes at 1024.
        let cut = |at: usize| {
            let e = all(&GNU[..at]).unwrap_err();
            (e.expected, e.found)
        };
        assert_eq!(cut(300), ("a 512-byte tar header at offset 0".into(), "300 bytes".into()));
        assert_eq!(cut(700), ("a 512-byte tar header at offset 512".into(), "188 bytes".into()));
        assert_eq!(cut(1030), ("dir/hello.txt: 11 bytes at offset 1024".into(), "the archive ending after 6".into()));
        assert_eq!(cut(1100), ("padding to 512 bytes at offset 1035".into(), "the end".into()));

        let e = all(&[]).unwrap_err();
        assert_eq!(e.found, "an empty archive");
    }
}
