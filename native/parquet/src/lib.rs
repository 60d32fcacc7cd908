//! datashare's Parquet encoder for Node: Postgres binary COPY chunks in, Parquet file bytes out.
//!
//! JS (activities/export/parquet/) reads the COPY stream and hands its chunks to `push`, which
//! decodes and encodes them on libuv's thread pool (so the next chunk is read from the socket
//! meanwhile) and resolves with the bytes of any row group that closed; `finish` resolves with the
//! rest and the footer. Values the schema cannot hold reject with code 'InvalidArg' and a message
//! naming the column and the row's key.
mod columns;
mod copy_binary;
mod failure;
mod key_text;
mod pg_value;
mod writer;

use std::sync::{Arc, Mutex};

use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::columns::Kind;
use crate::writer::{ColumnSetting, FileEncoder, Options};

/// One column as the JS type mapping decided it.
#[napi(object)]
pub struct ParquetColumn {
    pub name: String,
    /// bool, int16, int32, int64, float32, float64, decimal, numeric_text, text, json, jsonb, bytea, uuid, date, time, timestamp, timestamptz
    pub kind: String,
    /// A one-dimensional array of `kind`: a Parquet LIST.
    pub list: bool,
    pub precision: Option<u32>,
    pub scale: Option<u32>,
    pub dictionary: bool,
    /// Part of the dataset's key: named in messages about a row.
    pub key: bool,
}

#[napi(object)]
pub struct ParquetOptions {
    /// snappy, zstd, gzip or none
    pub codec: String,
    pub created_by: String,
    pub row_group_rows: u32,
    pub row_group_bytes: u32,
}

#[napi]
pub struct ParquetEncoder {
    inner: Arc<Mutex<FileEncoder>>,
}

fn lock(m: &Mutex<FileEncoder>) -> Result<std::sync::MutexGuard<'_, FileEncoder>> {
    m.lock().map_err(|_| Error::from_reason("the encoder failed earlier"))
}

#[napi]
impl ParquetEncoder {
    #[napi(constructor)]
    pub fn new(columns: Vec<ParquetColumn>, options: ParquetOptions) -> Result<Self> {
        let mut settings = Vec::with_capacity(columns.len());
        for c in columns {
            let kind = Kind::parse(&c.kind, c.precision, c.scale).map_err(|m| Error::from_reason(format!("column \"{}\": {m}", c.name)))?;
            settings.push(ColumnSetting { name: c.name, kind, list: c.list, dictionary: c.dictionary, key: c.key });
        }
        let o = Options {
            codec: options.codec,
            created_by: options.created_by,
            row_group_rows: options.row_group_rows as usize,
            row_group_bytes: options.row_group_bytes as usize,
        };
        Ok(ParquetEncoder { inner: Arc::new(Mutex::new(FileEncoder::new(settings, o)?)) })
    }

    /// Encodes a chunk of the COPY stream off the event loop; resolves with the bytes of closed row groups (maybe none).
    /// The chunk must not change until the promise settles, and pushes must not overlap.
    #[napi(ts_return_type = "Promise<Buffer>")]
    pub fn push(&self, chunk: Buffer) -> AsyncTask<Encode> {
        AsyncTask::new(Encode { enc: self.inner.clone(), chunk: Some(chunk) })
    }

    /// Resolves with the rest of the file: the last row group and the footer.
    #[napi(ts_return_type = "Promise<Buffer>")]
    pub fn finish(&self) -> AsyncTask<Encode> {
        AsyncTask::new(Encode { enc: self.inner.clone(), chunk: None })
    }

    /// Rows decoded so far.
    #[napi(getter)]
    pub fn rows(&self) -> Result<i64> {
        Ok(lock(&self.inner)?.rows() as i64)
    }

    /// Rows in the row groups whose bytes have been handed out.
    #[napi(getter)]
    pub fn rows_flushed(&self) -> Result<i64> {
        Ok(lock(&self.inner)?.rows_flushed() as i64)
    }
}

/// A push (with a chunk) or the finish (without), run on libuv's thread pool.
pub struct Encode {
    enc: Arc<Mutex<FileEncoder>>,
    chunk: Option<Buffer>,
}

impl Task for Encode {
    type Output = Vec<u8>;
    type JsValue = Buffer;

    fn compute(&mut self) -> Result<Vec<u8>> {
        let mut enc = lock(&self.enc)?;
        let out = match &self.chunk {
            Some(chunk) => enc.push(chunk),
            None => enc.finish(),
        };
        Ok(out?)
    }

    fn resolve(&mut self, _env: Env, output: Vec<u8>) -> Result<Buffer> {
        Ok(output.into())
    }
}
