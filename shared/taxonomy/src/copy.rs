//! Writing rows in PostgreSQL's `COPY ... FROM STDIN` text format, and the deterministic ids the
//! importer gives rows (UUID v5 in the source's namespace, so a re-import of the same name usage
//! yields the same id and links can be computed without a lookup).

use bytes::{BufMut, BytesMut};
use uuid::Uuid;

/// The id of one ColDP record: its kind and identifying fields, in the source's namespace.
pub fn record_id(source: &Uuid, parts: &[&str]) -> Uuid {
    let mut name = Vec::with_capacity(64);
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            name.push(0x1f);
        }
        name.extend_from_slice(p.as_bytes());
    }
    Uuid::new_v5(source, &name)
}

/// One COPY row after another into a growing buffer.
#[derive(Debug, Default)]
pub struct CopyWriter {
    buf: BytesMut,
    row_has_field: bool,
}

impl CopyWriter {
    /// An empty writer with room for `capacity` bytes.
    pub fn with_capacity(capacity: usize) -> CopyWriter {
        CopyWriter {
            buf: BytesMut::with_capacity(capacity),
            row_has_field: false,
        }
    }

    fn sep(&mut self) {
        if self.row_has_field {
            self.buf.put_u8(b'\t');
        }
        self.row_has_field = true;
    }

    /// A text value, escaped.
    pub fn text(&mut self, s: &str) {
        self.sep();
        let bytes = s.as_bytes();
        let mut start = 0;
        for (i, &b) in bytes.iter().enumerate() {
            let esc: &[u8] = match b {
                b'\\' => b"\\\\",
                b'\t' => b"\\t",
                b'\n' => b"\\n",
                b'\r' => b"\\r",
                _ => continue,
            };
            self.buf.put_slice(&bytes[start..i]);
            self.buf.put_slice(esc);
            start = i + 1;
        }
        self.buf.put_slice(&bytes[start..]);
    }

    /// SQL NULL.
    pub fn null(&mut self) {
        self.sep();
        self.buf.put_slice(b"\\N");
    }

    /// A UUID.
    pub fn uuid(&mut self, id: &Uuid) {
        self.sep();
        let mut tmp = Uuid::encode_buffer();
        self.buf
            .put_slice(id.hyphenated().encode_lower(&mut tmp).as_bytes());
    }

    /// An optional UUID (NULL when absent).
    pub fn opt_uuid(&mut self, id: Option<&Uuid>) {
        match id {
            Some(id) => self.uuid(id),
            None => self.null(),
        }
    }

    /// An integer.
    pub fn int(&mut self, n: i64) {
        self.sep();
        self.buf.put_slice(n.to_string().as_bytes());
    }

    /// An optional integer.
    pub fn opt_int(&mut self, n: Option<i64>) {
        match n {
            Some(n) => self.int(n),
            None => self.null(),
        }
    }

    /// A boolean.
    pub fn bool(&mut self, b: bool) {
        self.sep();
        self.buf.put_u8(if b { b't' } else { b'f' });
    }

    /// An optional boolean.
    pub fn opt_bool(&mut self, b: Option<bool>) {
        match b {
            Some(b) => self.bool(b),
            None => self.null(),
        }
    }

    /// A text array of plain words (no quoting needed: callers pass `[a-z]` words only).
    pub fn word_array(&mut self, words: &[&str]) {
        self.sep();
        self.buf.put_u8(b'{');
        for (i, w) in words.iter().enumerate() {
            if i > 0 {
                self.buf.put_u8(b',');
            }
            self.buf.put_slice(w.as_bytes());
        }
        self.buf.put_u8(b'}');
    }

    /// Ends the current row.
    pub fn end_row(&mut self) {
        self.buf.put_u8(b'\n');
        self.row_has_field = false;
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// True when nothing has been written.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Takes what was written, leaving the writer empty.
    pub fn take(&mut self) -> bytes::Bytes {
        self.buf.split().freeze()
    }

    /// Drops a partly written row (from the byte offset it started at).
    pub fn truncate(&mut self, len: usize) {
        self.buf.truncate(len);
        self.row_has_field = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v5_matches_the_rfc_example() {
        // RFC 9562 appendix A.4: the DNS namespace and "www.example.com" (one part: no separator).
        let dns = Uuid::parse_str("6ba7b810-9dad-11d1-80b4-00c04fd430c8").unwrap();
        assert_eq!(
            record_id(&dns, &["www.example.com"]).to_string(),
            "2ed6657d-e927-568b-95e1-2665a8aea6a2"
        );
    }

    #[test]
    fn copy_text_escapes_specials_and_writes_nulls() {
        let mut w = CopyWriter::default();
        w.text("a\tb\\c\nd");
        w.null();
        w.bool(true);
        w.int(-3);
        w.word_array(&["marine", "terrestrial"]);
        w.end_row();
        assert_eq!(
            &w.take()[..],
            b"a\\tb\\\\c\\nd\t\\N\tt\t-3\t{marine,terrestrial}\n"
        );
        assert!(w.is_empty());
    }
}
