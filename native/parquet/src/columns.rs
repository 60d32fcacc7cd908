//! One Arrow builder per delivered column, fed with Postgres binary values.
//!
//! The schema is decided before the first row, from the column kinds the JS side derived from the
//! Postgres types (activities/export/parquet/type-mapping.ts): every file of a delivery has it.
use std::sync::Arc;

use arrow_array::builder::*;
use arrow_array::{ArrayRef, ListArray};
use arrow_buffer::{NullBufferBuilder, OffsetBuffer, ScalarBuffer};
use arrow_schema::{extension, DataType, Field, FieldRef, TimeUnit};

use crate::pg_value::*;

/// What a column holds, as Parquet will store it.
#[derive(Clone, Copy, Debug)]
pub enum Kind {
    Bool,
    Int16,
    Int32,
    Int64,
    Float32,
    Float64,
    Decimal { precision: u8, scale: i8 },
    /// numeric without a precision (or above 38 digits): its exact text.
    NumericText,
    Text,
    Json,
    Jsonb,
    Bytea,
    Uuid,
    Date,
    Time,
    Timestamp,
    TimestampTz,
}

impl Kind {
    pub fn parse(kind: &str, precision: Option<u32>, scale: Option<u32>) -> Result<Kind, String> {
        Ok(match kind {
            "bool" => Kind::Bool,
            "int16" => Kind::Int16,
            "int32" => Kind::Int32,
            "int64" => Kind::Int64,
            "float32" => Kind::Float32,
            "float64" => Kind::Float64,
            "decimal" => {
                let p = precision.filter(|p| (1..=38).contains(p)).ok_or("decimal needs a precision of 1 to 38")?;
                let s = scale.filter(|s| *s <= p).ok_or("decimal needs a scale of 0 to its precision")?;
                Kind::Decimal { precision: p as u8, scale: s as i8 }
            }
            "numeric_text" => Kind::NumericText,
            "text" => Kind::Text,
            "json" => Kind::Json,
            "jsonb" => Kind::Jsonb,
            "bytea" => Kind::Bytea,
            "uuid" => Kind::Uuid,
            "date" => Kind::Date,
            "time" => Kind::Time,
            "timestamp" => Kind::Timestamp,
            "timestamptz" => Kind::TimestampTz,
            other => return Err(format!("unknown column kind {other:?}")),
        })
    }

    /// The Arrow field, with the canonical extension types that become Parquet's UUID and JSON logical types.
    pub fn field(self, name: &str) -> Field {
        let dt = match self {
            Kind::Bool => DataType::Boolean,
            Kind::Int16 => DataType::Int16,
            Kind::Int32 => DataType::Int32,
            Kind::Int64 => DataType::Int64,
            Kind::Float32 => DataType::Float32,
            Kind::Float64 => DataType::Float64,
            Kind::Decimal { precision, scale } => DataType::Decimal128(precision, scale),
            Kind::NumericText | Kind::Text | Kind::Json | Kind::Jsonb => DataType::Utf8,
            Kind::Bytea => DataType::Binary,
            Kind::Uuid => DataType::FixedSizeBinary(16),
            Kind::Date => DataType::Date32,
            Kind::Time => DataType::Time64(TimeUnit::Microsecond),
            Kind::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, None),
            Kind::TimestampTz => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        };
        let f = Field::new(name, dt, true);
        match self {
            Kind::Json | Kind::Jsonb => f.with_extension_type(extension::Json::default()),
            Kind::Uuid => f.with_extension_type(extension::Uuid),
            _ => f,
        }
    }
}

/// The builder of one kind's values.
enum Values {
    Bool(BooleanBuilder),
    I16(Int16Builder),
    I32(Int32Builder),
    I64(Int64Builder),
    F32(Float32Builder),
    F64(Float64Builder),
    Dec(Decimal128Builder),
    Str(StringBuilder),
    Bin(BinaryBuilder),
    Uuid(FixedSizeBinaryBuilder),
    Date(Date32Builder),
    Time(Time64MicrosecondBuilder),
    Ts(TimestampMicrosecondBuilder),
}

impl Values {
    fn new(kind: Kind) -> Values {
        match kind {
            Kind::Bool => Values::Bool(BooleanBuilder::new()),
            Kind::Int16 => Values::I16(Int16Builder::new()),
            Kind::Int32 => Values::I32(Int32Builder::new()),
            Kind::Int64 => Values::I64(Int64Builder::new()),
            Kind::Float32 => Values::F32(Float32Builder::new()),
            Kind::Float64 => Values::F64(Float64Builder::new()),
            Kind::Decimal { precision, scale } => Values::Dec(Decimal128Builder::new().with_precision_and_scale(precision, scale).expect("checked in Kind::parse")),
            Kind::NumericText | Kind::Text | Kind::Json | Kind::Jsonb => Values::Str(StringBuilder::new()),
            Kind::Bytea => Values::Bin(BinaryBuilder::new()),
            Kind::Uuid => Values::Uuid(FixedSizeBinaryBuilder::new(16)),
            Kind::Date => Values::Date(Date32Builder::new()),
            Kind::Time => Values::Time(Time64MicrosecondBuilder::new()),
            Kind::Timestamp => Values::Ts(TimestampMicrosecondBuilder::new()),
            Kind::TimestampTz => Values::Ts(TimestampMicrosecondBuilder::new().with_timezone("UTC")),
        }
    }

    fn len(&self) -> usize {
        match self {
            Values::Bool(b) => b.len(),
            Values::I16(b) => b.len(),
            Values::I32(b) => b.len(),
            Values::I64(b) => b.len(),
            Values::F32(b) => b.len(),
            Values::F64(b) => b.len(),
            Values::Dec(b) => b.len(),
            Values::Str(b) => b.len(),
            Values::Bin(b) => b.len(),
            Values::Uuid(b) => b.len(),
            Values::Date(b) => b.len(),
            Values::Time(b) => b.len(),
            Values::Ts(b) => b.len(),
        }
    }

    fn null(&mut self) {
        match self {
            Values::Bool(b) => b.append_null(),
            Values::I16(b) => b.append_null(),
            Values::I32(b) => b.append_null(),
            Values::I64(b) => b.append_null(),
            Values::F32(b) => b.append_null(),
            Values::F64(b) => b.append_null(),
            Values::Dec(b) => b.append_null(),
            Values::Str(b) => b.append_null(),
            Values::Bin(b) => b.append_null(),
            Values::Uuid(b) => b.append_null(),
            Values::Date(b) => b.append_null(),
            Values::Time(b) => b.append_null(),
            Values::Ts(b) => b.append_null(),
        }
    }

    fn value(&mut self, kind: Kind, v: &[u8]) -> Result<(), String> {
        match (self, kind) {
            (Values::Bool(b), _) => {
                need(v, 1)?;
                b.append_value(v[0] != 0)
            }
            (Values::I16(b), _) => {
                need(v, 2)?;
                b.append_value(be16(v, 0))
            }
            (Values::I32(b), _) => {
                need(v, 4)?;
                b.append_value(be32(v, 0))
            }
            (Values::I64(b), _) => {
                need(v, 8)?;
                b.append_value(be64(v, 0))
            }
            (Values::F32(b), _) => {
                need(v, 4)?;
                b.append_value(f32::from_bits(be32(v, 0) as u32))
            }
            (Values::F64(b), _) => {
                need(v, 8)?;
                b.append_value(f64::from_bits(be64(v, 0) as u64))
            }
            (Values::Dec(b), Kind::Decimal { precision, scale }) => b.append_value(numeric_unscaled(v, precision, scale)?),
            (Values::Str(b), Kind::NumericText) => b.append_value(numeric_text(v)),
            (Values::Str(b), Kind::Jsonb) => b.append_value(jsonb_text(v)?),
            (Values::Str(b), _) => b.append_value(utf8(v)?),
            (Values::Bin(b), _) => b.append_value(v),
            (Values::Uuid(b), _) => {
                need(v, 16)?;
                b.append_value(&v[..16]).map_err(|e| e.to_string())?
            }
            (Values::Date(b), _) => b.append_value(date_days(v)?),
            (Values::Time(b), _) => {
                need(v, 8)?;
                b.append_value(be64(v, 0))
            }
            (Values::Ts(b), _) => b.append_value(timestamp_us(v)?),
            (Values::Dec(_), _) => unreachable!("a decimal builder is made for Kind::Decimal only"),
        }
        Ok(())
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            Values::Bool(b) => Arc::new(b.finish()),
            Values::I16(b) => Arc::new(b.finish()),
            Values::I32(b) => Arc::new(b.finish()),
            Values::I64(b) => Arc::new(b.finish()),
            Values::F32(b) => Arc::new(b.finish()),
            Values::F64(b) => Arc::new(b.finish()),
            Values::Dec(b) => Arc::new(b.finish()),
            Values::Str(b) => Arc::new(b.finish()),
            Values::Bin(b) => Arc::new(b.finish()),
            Values::Uuid(b) => Arc::new(b.finish()),
            Values::Date(b) => Arc::new(b.finish()),
            Values::Time(b) => Arc::new(b.finish()),
            Values::Ts(b) => Arc::new(b.finish()),
        }
    }
}

/// A one-dimensional array column: offsets and validity of the lists, over a builder of the elements.
struct Lists {
    element: FieldRef,
    offsets: Vec<i32>,
    valid: NullBufferBuilder,
}

/// One delivered column's values of the current batch.
pub struct Column {
    pub kind: Kind,
    values: Values,
    lists: Option<Lists>,
}

impl Column {
    pub fn new(kind: Kind, list: bool) -> Column {
        let lists = list.then(|| Lists { element: Arc::new(kind.field("element")), offsets: vec![0], valid: NullBufferBuilder::new(1024) });
        Column { kind, values: Values::new(kind), lists }
    }

    /// The Arrow field of this column: the kind's, or a LIST of it.
    pub fn field(&self, name: &str) -> Field {
        match &self.lists {
            None => self.kind.field(name),
            Some(l) => Field::new(name, DataType::List(l.element.clone()), true),
        }
    }

    /// Appends one value (None: SQL NULL).
    pub fn append(&mut self, v: Option<&[u8]>) -> Result<(), String> {
        let kind = self.kind;
        match (&mut self.lists, v) {
            (None, None) => self.values.null(),
            (None, Some(v)) => self.values.value(kind, v)?,
            (Some(l), None) => {
                l.offsets.push(*l.offsets.last().unwrap());
                l.valid.append_null();
            }
            (Some(l), Some(v)) => {
                let values = &mut self.values;
                let before = values.len();
                let res = array_elements(v, |e| match e {
                    None => {
                        values.null();
                        Ok(())
                    }
                    Some(e) => values.value(kind, e),
                });
                if let Err(e) = res {
                    // The batch fails whole, so elements half appended are never written.
                    return Err(e);
                }
                let added = (values.len() - before) as i32;
                l.offsets.push(l.offsets.last().unwrap() + added);
                l.valid.append_non_null();
            }
        }
        Ok(())
    }

    /// The batch's array; the builders start empty again.
    pub fn finish(&mut self) -> ArrayRef {
        let values = self.values.finish();
        match &mut self.lists {
            None => values,
            Some(l) => {
                let offsets = OffsetBuffer::new(ScalarBuffer::from(std::mem::replace(&mut l.offsets, vec![0])));
                Arc::new(ListArray::new(l.element.clone(), offsets, values, l.valid.finish()))
            }
        }
    }
}
