//! The two ways encoding fails, told apart in JS by the error's `code`.

/// A value the Parquet schema cannot hold (permanent: the dataset's SQL must change), or anything else.
#[derive(Debug)]
pub enum Failure {
    Unrepresentable(String),
    Internal(String),
}

impl From<Failure> for napi::Error {
    fn from(f: Failure) -> napi::Error {
        match f {
            // JS reads error.code === 'InvalidArg' as "unrepresentable value" (parquet-encoder.ts).
            Failure::Unrepresentable(m) => napi::Error::new(napi::Status::InvalidArg, m),
            Failure::Internal(m) => napi::Error::new(napi::Status::GenericFailure, m),
        }
    }
}

pub fn internal(e: impl std::fmt::Display) -> Failure {
    Failure::Internal(e.to_string())
}
