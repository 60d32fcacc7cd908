//! One Parquet file, written row group by row group as binary COPY arrives.
//!
//! Rows gather into Arrow batches (8192 rows or 8 MiB of values, whichever comes first) that the
//! ArrowWriter encodes into the open row group. A row group closes at `row_group_rows` rows or once
//! its encoded size reaches `row_group_bytes`; its bytes then leave with the next `push`. Where
//! batches and row groups end depends on the rows alone, never on how the stream was chunked: the
//! same rows give the same bytes, which is what lets an interrupted file resume byte-identically.
use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{Schema, SchemaRef};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, GzipLevel, ZstdLevel};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;

use crate::columns::{Column, Kind};
use crate::copy_binary::{FieldAt, Tuples};
use crate::failure::{internal, Failure};
use crate::key_text::key_text;

const BATCH_ROWS: usize = 8192;
/// Bounds a batch of wide rows (large bytea, long text): its values are held twice while encoding.
const BATCH_BYTES: usize = 8 << 20;
/// Long strings and binaries would otherwise put whole values into the footer's statistics.
const STATISTICS_TRUNCATE: usize = 64;

pub struct ColumnSetting {
    pub name: String,
    pub kind: Kind,
    pub list: bool,
    pub dictionary: bool,
    pub key: bool,
}

pub struct Options {
    pub codec: String,
    pub created_by: String,
    pub row_group_rows: usize,
    pub row_group_bytes: usize,
}

/// The rows of the open batch and row group, and the writer they go to.
struct Batches {
    names: Vec<String>,
    keys: Vec<usize>,
    columns: Vec<Column>,
    schema: SchemaRef,
    writer: Option<ArrowWriter<Vec<u8>>>,
    rows_in_batch: usize,
    bytes_in_batch: usize,
    row_group_bytes: usize,
    rows: u64,
}

pub struct FileEncoder {
    tuples: Tuples,
    batches: Batches,
}

fn codec(name: &str) -> Result<Compression, Failure> {
    Ok(match name {
        "snappy" => Compression::SNAPPY,
        // Level 1 of each: they keep up with a Postgres backend (as gzip -1 does for CSV).
        "zstd" => Compression::ZSTD(ZstdLevel::try_new(1).map_err(internal)?),
        "gzip" => Compression::GZIP(GzipLevel::try_new(1).map_err(internal)?),
        "none" => Compression::UNCOMPRESSED,
        other => return Err(internal(format!("unknown Parquet codec {other:?}"))),
    })
}

impl FileEncoder {
    pub fn new(settings: Vec<ColumnSetting>, o: Options) -> Result<FileEncoder, Failure> {
        let columns: Vec<Column> = settings.iter().map(|c| Column::new(c.kind, c.list)).collect();
        let schema = Arc::new(Schema::new(settings.iter().zip(&columns).map(|(s, c)| c.field(&s.name)).collect::<Vec<_>>()));
        let mut props = WriterProperties::builder()
            .set_compression(codec(&o.codec)?)
            .set_created_by(o.created_by)
            .set_statistics_enabled(EnabledStatistics::Chunk)
            .set_statistics_truncate_length(Some(STATISTICS_TRUNCATE))
            .set_max_row_group_row_count(Some(o.row_group_rows.max(1)))
            .set_dictionary_enabled(false);
        for s in &settings {
            if s.dictionary {
                let path = if s.list { vec![s.name.clone(), "list".into(), "element".into()] } else { vec![s.name.clone()] };
                props = props.set_column_dictionary_enabled(ColumnPath::new(path), true);
            }
        }
        let writer = ArrowWriter::try_new(Vec::with_capacity(1 << 20), schema.clone(), Some(props.build())).map_err(internal)?;
        Ok(FileEncoder {
            tuples: Tuples::new(settings.len()),
            batches: Batches {
                names: settings.iter().map(|s| s.name.clone()).collect(),
                keys: settings.iter().enumerate().filter(|(_, s)| s.key).map(|(i, _)| i).collect(),
                columns,
                schema,
                writer: Some(writer),
                rows_in_batch: 0,
                bytes_in_batch: 0,
                row_group_bytes: o.row_group_bytes.max(1),
                rows: 0,
            },
        })
    }

    /// Rows decoded so far.
    pub fn rows(&self) -> u64 {
        self.batches.rows
    }

    /// Rows in the row groups closed so far (their bytes are, or will be with the next push, out).
    pub fn rows_flushed(&self) -> u64 {
        self.batches.writer.as_ref().map_or(self.batches.rows, |w| w.flushed_row_groups().iter().map(|g| g.num_rows() as u64).sum())
    }

    /// Takes a chunk of the COPY stream; returns the bytes of any row group closed meanwhile.
    pub fn push(&mut self, chunk: &[u8]) -> Result<Vec<u8>, Failure> {
        let batches = &mut self.batches;
        self.tuples.feed(chunk, &mut |tuple, fields| batches.row(tuple, fields))?;
        batches.take_output()
    }

    /// Closes the file: the last row group and the footer.
    pub fn finish(&mut self) -> Result<Vec<u8>, Failure> {
        if !self.tuples.ended || self.tuples.leftover() > 0 {
            return Err(internal("the COPY stream ended before its trailer: not completing a truncated file"));
        }
        self.batches.write_batch()?;
        let w = self.batches.writer.take().ok_or_else(|| internal("finished twice"))?;
        w.into_inner().map_err(internal)
    }
}

impl Batches {
    fn row(&mut self, tuple: &[u8], fields: &[FieldAt]) -> Result<(), Failure> {
        for (i, at) in fields.iter().enumerate() {
            let v = at.map(|(p, n)| &tuple[p..p + n]);
            if let Err(problem) = self.columns[i].append(v) {
                return Err(Failure::Unrepresentable(self.describe(i, tuple, fields, &problem)));
            }
            self.bytes_in_batch += at.map_or(0, |(_, n)| n);
        }
        self.rows += 1;
        self.rows_in_batch += 1;
        if self.rows_in_batch >= BATCH_ROWS || self.bytes_in_batch >= BATCH_BYTES {
            self.write_batch()?;
        }
        Ok(())
    }

    /// The column, the row's key (or its number when the key is not delivered), and the problem.
    fn describe(&self, col: usize, tuple: &[u8], fields: &[FieldAt], problem: &str) -> String {
        let row = if self.keys.is_empty() {
            format!("row {} of the file", self.rows + 1)
        } else {
            let keys: Vec<String> = self.keys.iter().map(|&k| key_text(&self.names[k], self.columns[k].kind, tuple, fields[k])).collect();
            format!("the row with key {}", keys.join(", "))
        };
        format!("column \"{}\", {row}: {problem}", self.names[col])
    }

    fn write_batch(&mut self) -> Result<(), Failure> {
        if self.rows_in_batch == 0 {
            return Ok(());
        }
        let arrays: Vec<ArrayRef> = self.columns.iter_mut().map(|c| c.finish()).collect();
        let batch = RecordBatch::try_new(self.schema.clone(), arrays).map_err(internal)?;
        let w = self.writer.as_mut().ok_or_else(|| internal("write after finish"))?;
        w.write(&batch).map_err(internal)?;
        self.rows_in_batch = 0;
        self.bytes_in_batch = 0;
        // The writer closes a group at the row limit itself; the size limit is ours.
        if w.in_progress_size() >= self.row_group_bytes {
            w.flush().map_err(internal)?;
        }
        Ok(())
    }

    fn take_output(&mut self) -> Result<Vec<u8>, Failure> {
        let w = self.writer.as_mut().ok_or_else(|| internal("push after finish"))?;
        w.sync().map_err(internal)?;
        Ok(std::mem::take(w.inner_mut()))
    }
}
