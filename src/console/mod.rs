//! What autofold tells the person at the terminal besides its results: notes
//! and progress bars, on standard error. Every stage uses them, so they sit
//! below all stages and import none.

pub mod progress;
pub mod wording;

/// Tells the user something worth knowing that is not an error, on
/// standard error, as `autofold: note: …`.
pub fn note(message: impl std::fmt::Display) {
    eprintln!("autofold: note: {message}");
}
