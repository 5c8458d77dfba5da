//! A streaming reader of ColDP tab-separated files: one line at a time into a reused buffer, so
//! memory stays flat whatever the file size. Header names are matched with or without the `col:`
//! prefix and case-insensitively. A field that is wholly wrapped in double quotes (`"a""b"`) is
//! unquoted; any other `"` is an ordinary character (ColDP TSV does not quote, and names such as
//! `"Nemo" fish` start with one). Bad lines (invalid UTF-8, wrong column count, over-long) are
//! reported with their 1-based line number and skipped; I/O errors end the file.

use std::{borrow::Cow, io::BufRead, ops::Range};

/// Longest line accepted; longer lines are skipped as bad rows without being buffered whole.
pub const MAX_LINE_BYTES: usize = 16 * 1024 * 1024;

/// The column names of a file, normalised (`col:` prefix dropped, lower-cased).
#[derive(Debug, Clone)]
pub struct Header {
    columns: Vec<String>,
}

impl Header {
    /// Normalises raw header names.
    pub fn new<S: AsRef<str>>(raw: &[S]) -> Header {
        let columns = raw
            .iter()
            .map(|c| {
                let c = c.as_ref().trim();
                let c = c
                    .strip_prefix("col:")
                    .or_else(|| c.strip_prefix("COL:"))
                    .unwrap_or(c);
                c.to_ascii_lowercase()
            })
            .collect();
        Header { columns }
    }

    /// Position of a column (`name` without prefix, any case).
    pub fn index(&self, name: &str) -> Option<usize> {
        self.columns
            .iter()
            .position(|c| c.eq_ignore_ascii_case(name))
    }

    /// Number of columns.
    pub fn len(&self) -> usize {
        self.columns.len()
    }

    /// True when the header has no columns.
    pub fn is_empty(&self) -> bool {
        self.columns.is_empty()
    }
}

/// Why one line was skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineError {
    /// The line is not valid UTF-8.
    InvalidUtf8,
    /// The line is longer than [`MAX_LINE_BYTES`].
    TooLong,
    /// The line has a different number of fields than the header.
    ColumnCount { expected: usize, found: usize },
}

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LineError::InvalidUtf8 => write!(f, "line is not valid UTF-8"),
            LineError::TooLong => write!(f, "line is longer than {MAX_LINE_BYTES} bytes"),
            LineError::ColumnCount { expected, found } => {
                write!(f, "expected {expected} tab-separated fields, found {found}")
            }
        }
    }
}

/// One field's place in the line buffer, and whether it was quoted (and so needs unescaping).
#[derive(Debug, Clone)]
struct Span {
    range: Range<usize>,
    quoted: bool,
}

/// The reader. `next_row` yields each data line's fields, or why the line was skipped.
pub struct TsvReader<R> {
    inner: R,
    header: Header,
    line_no: u64,
    buf: Vec<u8>,
    spans: Vec<Span>,
    bytes_read: u64,
}

/// The fields of one good line, borrowed from the reader's buffer.
pub struct Row<'a> {
    line: &'a str,
    spans: &'a [Span],
}

impl<'a> Row<'a> {
    /// Field `i` (trimmed of surrounding whitespace); empty when `i` is `None` or out of range.
    pub fn get(&self, i: Option<usize>) -> Cow<'a, str> {
        let Some(span) = i.and_then(|i| self.spans.get(i)) else {
            return Cow::Borrowed("");
        };
        let raw = &self.line[span.range.clone()];
        if span.quoted {
            Cow::Owned(raw.replace("\"\"", "\"").trim().to_owned())
        } else {
            Cow::Borrowed(raw.trim())
        }
    }
}

/// What reading a line gave.
pub enum Next<'a> {
    /// A data line.
    Row(u64, Row<'a>),
    /// A line that was skipped, and why.
    Bad(u64, LineError),
    /// End of file.
    End,
}

enum Raw {
    Line,
    TooLong,
    Eof,
}

impl<R: BufRead> TsvReader<R> {
    /// Reads the header line (a UTF-8 BOM is ignored). `None` when the file is empty.
    pub fn new(inner: R) -> std::io::Result<Option<TsvReader<R>>> {
        let mut reader = TsvReader {
            inner,
            header: Header::new::<&str>(&[]),
            line_no: 0,
            buf: Vec::with_capacity(4096),
            spans: Vec::new(),
            bytes_read: 0,
        };
        loop {
            match reader.read_raw()? {
                Raw::Eof => return Ok(None),
                Raw::TooLong => {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        "the header line is too long",
                    ));
                }
                Raw::Line => {}
            }
            let text = std::str::from_utf8(&reader.buf).map_err(|_| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    "the header line is not valid UTF-8",
                )
            })?;
            let text = text.strip_prefix('\u{feff}').unwrap_or(text);
            if text.trim().is_empty() {
                continue;
            }
            let names: Vec<&str> = text.split('\t').collect();
            reader.header = Header::new(&names);
            return Ok(Some(reader));
        }
    }

    /// The file's header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// Bytes consumed so far (progress reporting).
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read
    }

    /// Reads one line into `buf` (without its line ending), stopping at [`MAX_LINE_BYTES`].
    fn read_raw(&mut self) -> std::io::Result<Raw> {
        self.buf.clear();
        let mut too_long = false;
        let mut any = false;
        loop {
            let available = match self.inner.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if available.is_empty() {
                break;
            }
            any = true;
            let (chunk, used, done) = match memchr::memchr(b'\n', available) {
                Some(i) => (&available[..i], i + 1, true),
                None => (available, available.len(), false),
            };
            if !too_long {
                if self.buf.len() + chunk.len() > MAX_LINE_BYTES {
                    too_long = true;
                    self.buf.clear();
                } else {
                    self.buf.extend_from_slice(chunk);
                }
            }
            self.inner.consume(used);
            self.bytes_read += used as u64;
            if done {
                break;
            }
        }
        if !any {
            return Ok(Raw::Eof);
        }
        self.line_no += 1;
        if too_long {
            return Ok(Raw::TooLong);
        }
        if self.buf.last() == Some(&b'\r') {
            self.buf.pop();
        }
        Ok(Raw::Line)
    }

    /// The next data line (blank lines are skipped).
    pub fn next_row(&mut self) -> std::io::Result<Next<'_>> {
        loop {
            match self.read_raw()? {
                Raw::Eof => return Ok(Next::End),
                Raw::TooLong => return Ok(Next::Bad(self.line_no, LineError::TooLong)),
                Raw::Line => {}
            }
            if self.buf.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let line_no = self.line_no;
            let Ok(line) = std::str::from_utf8(&self.buf) else {
                return Ok(Next::Bad(line_no, LineError::InvalidUtf8));
            };
            split_fields(line, &mut self.spans);
            let expected = self.header.len();
            if self.spans.len() != expected {
                return Ok(Next::Bad(
                    line_no,
                    LineError::ColumnCount {
                        expected,
                        found: self.spans.len(),
                    },
                ));
            }
            return Ok(Next::Row(
                line_no,
                Row {
                    line,
                    spans: &self.spans,
                },
            ));
        }
    }
}

/// Splits a line at tabs. A field that starts with `"` and has a closing `"` right before a tab
/// or the end of the line (inner quotes doubled) is a quoted field and may contain tabs.
fn split_fields(line: &str, spans: &mut Vec<Span>) {
    spans.clear();
    let bytes = line.as_bytes();
    let mut start = 0;
    loop {
        if let Some(end) = quoted_end(bytes, start) {
            spans.push(Span {
                range: start + 1..end - 1,
                quoted: true,
            });
            if end >= bytes.len() {
                return;
            }
            start = end + 1;
            continue;
        }
        match memchr::memchr(b'\t', &bytes[start..]) {
            Some(i) => {
                spans.push(Span {
                    range: start..start + i,
                    quoted: false,
                });
                start += i + 1;
            }
            None => {
                spans.push(Span {
                    range: start..bytes.len(),
                    quoted: false,
                });
                return;
            }
        }
    }
}

/// If a properly quoted field starts at `start`, the index just past its closing quote.
fn quoted_end(bytes: &[u8], start: usize) -> Option<usize> {
    if bytes.get(start) != Some(&b'"') {
        return None;
    }
    let mut i = start + 1;
    loop {
        let q = i + memchr::memchr(b'"', &bytes[i..])?;
        if bytes.get(q + 1) == Some(&b'"') {
            i = q + 2;
            continue;
        }
        return match bytes.get(q + 1) {
            None | Some(b'\t') => Some(q + 1),
            Some(_) => None,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Rows = Vec<Result<Vec<String>, (u64, LineError)>>;

    fn rows(text: impl AsRef<[u8]>) -> (Vec<String>, Rows) {
        let mut r = TsvReader::new(std::io::BufReader::with_capacity(7, text.as_ref()))
            .unwrap()
            .unwrap();
        let header = r.header().columns.clone();
        let width = r.header().len();
        let mut out = Vec::new();
        loop {
            match r.next_row().unwrap() {
                Next::End => break,
                Next::Bad(n, e) => out.push(Err((n, e))),
                Next::Row(_, row) => out.push(Ok((0..width)
                    .map(|i| row.get(Some(i)).into_owned())
                    .collect())),
            }
        }
        (header, out)
    }

    #[test]
    fn headers_lose_their_prefix_and_case() {
        let (h, _) = rows("\u{feff}col:ID\tcol:scientificName\tRemarks\n");
        assert_eq!(h, ["id", "scientificname", "remarks"]);
        let header = Header::new(&["col:taxonID", "name"]);
        assert_eq!(header.index("taxonID"), Some(0));
        assert_eq!(header.index("NAME"), Some(1));
        assert_eq!(header.index("missing"), None);
    }

    #[test]
    fn quotes_are_ordinary_unless_they_wrap_the_whole_field() {
        let text = "a\tb\tc\n\"Nemo\" fish\tbluebottle \"jellyfish\"\t\"x\"\"y\"\n\"tab\there\"\tq\t\"\"\n";
        let (_, out) = rows(text);
        assert_eq!(
            out[0].as_ref().unwrap(),
            &["\"Nemo\" fish", "bluebottle \"jellyfish\"", "x\"y"]
        );
        assert_eq!(out[1].as_ref().unwrap(), &["tab\there", "q", ""]);
    }

    #[test]
    fn bad_lines_are_reported_with_line_numbers_and_reading_goes_on() {
        let mut text = b"a\tb\n1\t2\n\n3\n4\t5\t6\n".to_vec();
        text.extend_from_slice(b"\xff\xfe\t7\r\n8\t9\r\n");
        let (_, out) = rows(&text);
        assert_eq!(out[0].as_ref().unwrap(), &["1", "2"]);
        assert_eq!(
            out[1],
            Err((
                4,
                LineError::ColumnCount {
                    expected: 2,
                    found: 1
                }
            ))
        );
        assert_eq!(
            out[2],
            Err((
                5,
                LineError::ColumnCount {
                    expected: 2,
                    found: 3
                }
            ))
        );
        assert_eq!(out[3], Err((6, LineError::InvalidUtf8)));
        assert_eq!(out[4].as_ref().unwrap(), &["8", "9"]);
    }

    #[test]
    fn huge_fields_are_read_and_overlong_lines_skipped() {
        let big = "x".repeat(300_000);
        let text = format!("a\tb\n{big}\t1\n");
        let (_, out) = rows(&text);
        assert_eq!(out[0].as_ref().unwrap()[0].len(), 300_000);

        let huge = "y".repeat(MAX_LINE_BYTES + 10);
        let text = format!("a\tb\n{huge}\t1\nok\t2");
        let mut r = TsvReader::new(text.as_bytes()).unwrap().unwrap();
        assert!(matches!(
            r.next_row().unwrap(),
            Next::Bad(2, LineError::TooLong)
        ));
        match r.next_row().unwrap() {
            Next::Row(3, row) => assert_eq!(row.get(Some(0)), "ok"),
            _ => panic!("expected the line after the long one"),
        }
    }

    #[test]
    fn an_empty_file_has_no_header() {
        assert!(TsvReader::new(&b""[..]).unwrap().is_none());
        assert!(TsvReader::new(&b"\n\n"[..]).unwrap().is_none());
    }
}
