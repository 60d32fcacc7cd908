//! Framing of `COPY … TO STDOUT (FORMAT binary)`: a header, then tuples of length-prefixed fields,
//! then a -1 trailer (https://www.postgresql.org/docs/current/sql-copy.html#id-1.9.3.55.9.4).
//! Chunks may cut a tuple anywhere: the partial tail waits for the next chunk.
use crate::failure::{internal, Failure};
use crate::pg_value::{be16, be32};

const SIGNATURE: &[u8] = b"PGCOPY\n\xff\r\n\0";

/// Where a field's bytes lie in the buffer of the tuple (None: NULL).
pub type FieldAt = Option<(usize, usize)>;

pub struct Tuples {
    columns: usize,
    header_done: bool,
    pub ended: bool,
    pending: Vec<u8>,
    fields: Vec<FieldAt>,
}

impl Tuples {
    pub fn new(columns: usize) -> Tuples {
        Tuples { columns, header_done: false, ended: false, pending: Vec::new(), fields: Vec::with_capacity(columns) }
    }

    /// Hands every whole tuple of what was pending plus `chunk` to `row`, keeping a partial tail.
    pub fn feed(&mut self, chunk: &[u8], row: &mut dyn FnMut(&[u8], &[FieldAt]) -> Result<(), Failure>) -> Result<(), Failure> {
        if self.pending.is_empty() {
            let used = self.parse(chunk, row)?;
            self.pending.extend_from_slice(&chunk[used..]);
        } else {
            let mut buf = std::mem::take(&mut self.pending);
            buf.extend_from_slice(chunk);
            let used = self.parse(&buf, row)?;
            buf.drain(..used);
            self.pending = buf;
        }
        Ok(())
    }

    /// Bytes left over once COPY has ended: any is a truncated stream.
    pub fn leftover(&self) -> usize {
        self.pending.len()
    }

    fn parse(&mut self, b: &[u8], row: &mut dyn FnMut(&[u8], &[FieldAt]) -> Result<(), Failure>) -> Result<usize, Failure> {
        let mut p = 0;
        if !self.header_done {
            if b.len() < 19 {
                return Ok(0);
            }
            if &b[..11] != SIGNATURE {
                return Err(internal("not a binary COPY stream (bad signature)"));
            }
            let ext = be32(b, 15) as usize;
            if b.len() < 19 + ext {
                return Ok(0);
            }
            p = 19 + ext;
            self.header_done = true;
        }
        while !self.ended && p + 2 <= b.len() {
            let n = be16(b, p);
            if n == -1 {
                self.ended = true;
                p += 2;
                break;
            }
            if n as usize != self.columns {
                return Err(internal(format!("a tuple of {n} fields where the schema has {}", self.columns)));
            }
            self.fields.clear();
            let mut q = p + 2;
            let mut whole = true;
            for _ in 0..n {
                if q + 4 > b.len() {
                    whole = false;
                    break;
                }
                let len = be32(b, q);
                q += 4;
                if len < 0 {
                    self.fields.push(None);
                } else {
                    let len = len as usize;
                    if q + len > b.len() {
                        whole = false;
                        break;
                    }
                    self.fields.push(Some((q, len)));
                    q += len;
                }
            }
            if !whole {
                break;
            }
            row(b, &self.fields)?;
            p = q;
        }
        Ok(p)
    }
}
