//! Postgres binary wire values (the `send` functions' output) decoded into what Parquet stores.
//! Every function either returns the exact value or says why it cannot be written: never a guess.

/// 2000-01-01, Postgres's epoch, in Unix microseconds and days.
const PG_EPOCH_US: i64 = 946_684_800_000_000;
const PG_EPOCH_DAYS: i32 = 10_957;

pub fn be16(b: &[u8], p: usize) -> i16 {
    i16::from_be_bytes([b[p], b[p + 1]])
}
pub fn be32(b: &[u8], p: usize) -> i32 {
    i32::from_be_bytes([b[p], b[p + 1], b[p + 2], b[p + 3]])
}
pub fn be64(b: &[u8], p: usize) -> i64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[p..p + 8]);
    i64::from_be_bytes(a)
}

pub fn need(v: &[u8], n: usize) -> Result<(), String> {
    if v.len() < n {
        return Err(format!("value of {} bytes where {n} were expected (not the type the schema was built for)", v.len()));
    }
    Ok(())
}

/// Postgres numeric: a sign word, base-10000 digits with a weight, and a display scale.
struct Numeric<'a> {
    digits: usize,
    weight: i32,
    sign: u16,
    dscale: i32,
    b: &'a [u8],
}

const NUMERIC_NEG: u16 = 0x4000;

fn numeric(b: &[u8]) -> Result<Numeric<'_>, String> {
    need(b, 8)?;
    let n = Numeric { digits: be16(b, 0) as usize, weight: be16(b, 2) as i32, sign: be16(b, 4) as u16, dscale: be16(b, 6) as i32, b };
    need(b, 8 + 2 * n.digits)?;
    Ok(n)
}

impl Numeric<'_> {
    fn digit(&self, i: i32) -> i32 {
        if i < 0 || i as usize >= self.digits {
            0
        } else {
            be16(self.b, 8 + 2 * i as usize) as i32
        }
    }
    fn special(&self) -> Option<&'static str> {
        match self.sign {
            0xC000 => Some("NaN"),
            0xD000 => Some("Infinity"),
            0xF000 => Some("-Infinity"),
            _ => None,
        }
    }
}

/// The unscaled integer of a numeric at `scale` digits after the point, within `precision` digits.
pub fn numeric_unscaled(b: &[u8], precision: u8, scale: i8) -> Result<i128, String> {
    let n = numeric(b)?;
    if let Some(s) = n.special() {
        return Err(format!(
            "{s} has no DECIMAL({precision},{scale}) value; turn it into NULL or a number in the dataset's SQL \
             (e.g. NULLIF(col, '{s}')), or cast the column to text (col::text) to deliver it as a string"
        ));
    }
    // Sum of digit_i × 10^(4·(weight−i) + scale): every term is exact, so 38 digits never overflow.
    let scale = scale as i32;
    let mut total: i128 = 0;
    for i in 0..n.digits as i32 {
        let d = n.digit(i) as i128;
        if d == 0 {
            continue;
        }
        let k = 4 * (n.weight - i) + scale;
        let term = if k >= 0 {
            10i128.checked_pow(k as u32).and_then(|m| m.checked_mul(d))
        } else if k >= -4 && d % 10i128.pow((-k) as u32) == 0 {
            Some(d / 10i128.pow((-k) as u32))
        } else {
            return Err(format!("{} has more digits after the point than DECIMAL({precision},{scale})", numeric_text(b)));
        };
        total = term.and_then(|t| total.checked_add(t)).ok_or_else(|| too_wide(b, precision, scale))?;
    }
    if total.unsigned_abs() >= 10u128.pow(precision as u32) {
        return Err(too_wide(b, precision, scale));
    }
    Ok(if n.sign == NUMERIC_NEG { -total } else { total })
}

fn too_wide(b: &[u8], precision: u8, scale: i32) -> String {
    format!("{} does not fit DECIMAL({precision},{scale})", numeric_text(b))
}

/// A numeric exactly as Postgres prints it (NaN and ±Infinity included): the "exact string" choice.
pub fn numeric_text(b: &[u8]) -> String {
    let Ok(n) = numeric(b) else { return "<malformed numeric>".into() };
    if let Some(s) = n.special() {
        return s.to_string();
    }
    let mut s = String::with_capacity(8 + 4 * n.digits);
    if n.sign == NUMERIC_NEG {
        s.push('-');
    }
    if n.weight < 0 {
        s.push('0');
    } else {
        for g in 0..=n.weight {
            let d = n.digit(g);
            if g == 0 {
                s.push_str(&d.to_string());
            } else {
                s.push_str(&format!("{d:04}"));
            }
        }
    }
    if n.dscale > 0 {
        s.push('.');
        let start = s.len();
        let mut g = n.weight + 1;
        while ((s.len() - start) as i32) < n.dscale {
            s.push_str(&format!("{:04}", n.digit(g)));
            g += 1;
        }
        s.truncate(start + n.dscale as usize);
    }
    s
}

/// Microseconds since the Unix epoch; ±infinity and years past 294247 have no INT64 value.
pub fn timestamp_us(b: &[u8]) -> Result<i64, String> {
    need(b, 8)?;
    let v = be64(b, 0);
    if v == i64::MAX || v == i64::MIN {
        let s = if v == i64::MAX { "infinity" } else { "-infinity" };
        return Err(format!(
            "{s} has no Parquet TIMESTAMP value; turn it into NULL or a date in the dataset's SQL \
             (e.g. NULLIF(col, '{s}')), or cast the column to text (col::text)"
        ));
    }
    v.checked_add(PG_EPOCH_US).ok_or_else(|| {
        format!(
            "{} is past the last Parquet TIMESTAMP(MICROS) value (294247-01-10 04:00:54.775807 UTC); \
             cast the column to text (col::text) in the dataset's SQL to deliver it as a string",
            civil_timestamp(v)
        )
    })
}

/// Days since the Unix epoch; ±infinity has no DATE value.
pub fn date_days(b: &[u8]) -> Result<i32, String> {
    need(b, 4)?;
    let d = be32(b, 0);
    if d == i32::MAX || d == i32::MIN {
        let s = if d == i32::MAX { "infinity" } else { "-infinity" };
        return Err(format!(
            "{s} has no Parquet DATE value; turn it into NULL or a date in the dataset's SQL (e.g. NULLIF(col, '{s}')), \
             or cast the column to text (col::text)"
        ));
    }
    d.checked_add(PG_EPOCH_DAYS).ok_or_else(|| "date out of the DATE range; cast the column to text (col::text)".into())
}

pub fn utf8(b: &[u8]) -> Result<&str, String> {
    simdutf8::basic::from_utf8(b)
        .map_err(|_| "text that is not valid UTF-8 (is the source database's encoding UTF8?); convert it in the dataset's SQL".into())
}

/// A jsonb value: a version byte (1), then its text.
pub fn jsonb_text(b: &[u8]) -> Result<&str, String> {
    match b.first() {
        Some(1) => utf8(&b[1..]),
        _ => Err("jsonb in an unknown binary version".into()),
    }
}

/// Calls `each` with every element of a one-dimensional array (None for NULL); an empty array has none.
pub fn array_elements<'a>(v: &'a [u8], mut each: impl FnMut(Option<&'a [u8]>) -> Result<(), String>) -> Result<(), String> {
    need(v, 12)?;
    let ndim = be32(v, 0);
    if ndim == 0 {
        return Ok(());
    }
    if ndim > 1 {
        return Err(format!(
            "a {ndim}-dimensional array has no Parquet LIST value (LIST holds one dimension); \
             cast the column to text (col::text) in the dataset's SQL to deliver it as its Postgres text"
        ));
    }
    need(v, 20)?;
    let (n, lower) = (be32(v, 12), be32(v, 16));
    if lower != 1 {
        return Err(format!(
            "an array whose first index is {lower}, not 1: a Parquet LIST would lose it; \
             cast the column to text (col::text) in the dataset's SQL, or renumber it from 1"
        ));
    }
    let mut p = 20;
    for _ in 0..n {
        need(v, p + 4)?;
        let len = be32(v, p);
        p += 4;
        if len < 0 {
            each(None)?;
        } else {
            need(v, p + len as usize)?;
            each(Some(&v[p..p + len as usize]))?;
            p += len as usize;
        }
    }
    Ok(())
}

/// Year, month, day of a day count since 2000-01-01 (proleptic Gregorian; Howard Hinnant's algorithm).
fn civil(days_since_2000: i64) -> (i64, u32, u32) {
    let z = days_since_2000 + PG_EPOCH_DAYS as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    (y, m, d)
}

/// Postgres's way: years before 1 AD are written as positive years followed by " BC".
fn year_and_era(y: i64) -> (String, &'static str) {
    if y <= 0 {
        (format!("{:04}", 1 - y), " BC")
    } else {
        (format!("{y:04}"), "")
    }
}

/// A Postgres date (days since 2000-01-01) as text, for messages.
pub fn civil_date(days: i32) -> String {
    let (y, m, d) = civil(days as i64);
    let (y, era) = year_and_era(y);
    format!("{y}-{m:02}-{d:02}{era}")
}

/// A Postgres timestamp (µs since 2000-01-01) as text, for messages.
pub fn civil_timestamp(us: i64) -> String {
    let days = us.div_euclid(86_400_000_000);
    let rest = us.rem_euclid(86_400_000_000);
    let (y, m, d) = civil(days);
    let (h, mi, s, f) = (rest / 3_600_000_000, rest / 60_000_000 % 60, rest / 1_000_000 % 60, rest % 1_000_000);
    let (y, era) = year_and_era(y);
    format!("{y}-{m:02}-{d:02} {h:02}:{mi:02}:{s:02}.{f:06}{era}")
}
