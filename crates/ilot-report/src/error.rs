//! What can go wrong while writing the PDF.

/// Errors of [`crate::pdf`].
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The embedded font could not be read: a build defect, not the patient's data.
    #[error("the report's font cannot be loaded")]
    Font,
    /// The PDF writer refused the document.
    #[error("the PDF could not be written: {0}")]
    Pdf(String),
}

pub type Result<T> = std::result::Result<T, Error>;
