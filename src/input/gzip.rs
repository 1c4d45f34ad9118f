//! gzip-compressed input of any format, read as it is: recognised by its
//! magic bytes, decompressed while it streams (`flate2`), and its content
//! detected again. Concatenated gzip members (what `cat a.gz b.gz` makes)
//! are read as one stream, as `gunzip` does.

use std::io::{self, BufRead, BufReader, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use flate2::bufread::MultiGzDecoder;

use crate::input::Head;

/// The two bytes every gzip member starts with.
const MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Whether the input is gzip-compressed.
pub fn is_gzip(head: &Head) -> bool {
    head.bytes().starts_with(&MAGIC)
}

/// The decompressed content of `reader`, which holds gzip data. Errors in
/// the compressed data name the compressed byte offset near which they were
/// found.
pub fn decompress<'a>(reader: Box<dyn BufRead + Send + 'a>) -> Box<dyn BufRead + Send + 'a> {
    let consumed = Arc::new(AtomicU64::new(0));
    let counted = Counted {
        inner: reader,
        consumed: Arc::clone(&consumed),
    };
    Box::new(BufReader::with_capacity(
        1 << 20,
        Decompressed {
            decoder: MultiGzDecoder::new(counted),
            consumed,
        },
    ))
}

/// A reader that counts the bytes consumed from it.
struct Counted<R> {
    inner: R,
    consumed: Arc<AtomicU64>,
}

impl<R: BufRead> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.consumed.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Counted<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, amt: usize) {
        self.consumed.fetch_add(amt as u64, Ordering::Relaxed);
        self.inner.consume(amt);
    }
}

/// The decoder, with errors that say where in the compressed data they are.
struct Decompressed<R: BufRead> {
    decoder: MultiGzDecoder<R>,
    consumed: Arc<AtomicU64>,
}

impl<R: BufRead> Read for Decompressed<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.decoder.read(buf).map_err(|e| {
            let what = match e.kind() {
                io::ErrorKind::UnexpectedEof => {
                    "gzip data ends early (truncated file?)".to_string()
                }
                _ => format!("gzip data is corrupt ({e})"),
            };
            io::Error::new(
                e.kind(),
                format!(
                    "{what} near compressed byte {}",
                    self.consumed.load(Ordering::Relaxed)
                ),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use flate2::Compression;
    use flate2::write::GzEncoder;

    use super::*;

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    fn gunzip(bytes: &[u8]) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        decompress(Box::new(bytes)).read_to_end(&mut out)?;
        Ok(out)
    }

    #[test]
    fn concatenated_members_read_as_one_stream() {
        let mut both = gzip(b"a;b 1\n");
        both.extend(gzip(b"a;c 2\n"));
        assert!(is_gzip(&Head::of(&both)));
        assert_eq!(gunzip(&both).unwrap(), b"a;b 1\na;c 2\n");
    }

    #[test]
    fn a_truncated_file_says_so_with_an_offset() {
        let data = gzip(&b"a;b 1\n".repeat(1000));
        let err = gunzip(&data[..data.len() / 2]).unwrap_err().to_string();
        assert!(err.starts_with("gzip data ends early"), "{err}");
        assert!(err.contains("near compressed byte"), "{err}");
    }

    #[test]
    fn corrupt_data_is_an_error_not_a_panic() {
        let mut data = gzip(&b"a;b 1\n".repeat(1000));
        for byte in &mut data[20..40] {
            *byte ^= 0x5a;
        }
        assert!(gunzip(&data).is_err());
    }
}
