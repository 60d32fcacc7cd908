//! The row's key as text, for messages that name the row a value came from.
use crate::columns::Kind;
use crate::copy_binary::FieldAt;
use crate::pg_value::*;

/// `name=value` of one key column, as Postgres would print the value (hex for kinds not rendered here).
pub fn key_text(name: &str, kind: Kind, tuple: &[u8], at: FieldAt) -> String {
    let Some((p, n)) = at else { return format!("{name}=NULL") };
    let v = &tuple[p..p + n];
    let text = match kind {
        Kind::Int16 if n == 2 => be16(v, 0).to_string(),
        Kind::Int32 if n == 4 => be32(v, 0).to_string(),
        Kind::Int64 if n == 8 => be64(v, 0).to_string(),
        Kind::Decimal { .. } | Kind::NumericText => numeric_text(v),
        Kind::Text | Kind::Json => quoted(v),
        Kind::Jsonb if n > 0 => quoted(&v[1..]),
        Kind::Uuid if n == 16 => {
            let h: String = v.iter().map(|b| format!("{b:02x}")).collect();
            format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])
        }
        Kind::Date if n == 4 => civil_date(be32(v, 0)),
        Kind::Timestamp | Kind::TimestampTz if n == 8 => civil_timestamp(be64(v, 0)),
        _ => format!("\\x{}", v.iter().take(32).map(|b| format!("{b:02x}")).collect::<String>()),
    };
    format!("{name}={text}")
}

fn quoted(v: &[u8]) -> String {
    let s = String::from_utf8_lossy(v);
    let mut t: String = s.chars().take(80).collect();
    if t.len() < s.len() {
        t.push('…');
    }
    format!("'{}'", t.replace('\'', "''"))
}
