//! Mangled symbols made readable, keeping the symbol as the frame's
//! identity.
//!
//! Two instances of one Rust generic print the same demangled name
//! (`core::ops::function::FnOnce::call_once`) but have different symbols
//! (the hash at the end of a legacy symbol, the generic arguments of a v0
//! one). Asked for mangled names (`perf script --no-demangle`), autofold
//! demangles them itself: the frame prints as the demangled name, without
//! the hash, as perf prints it, and is told apart from other functions of
//! that name by its symbol.

use crate::profile::Frames;

/// The readable name of a mangled symbol (Rust legacy or v0, C++ Itanium),
/// or `None` when `symbol` is not one: a C function, an already demangled
/// name, a pseudo-frame. Rust names lose their hash, as perf prints them.
pub fn demangled(symbol: &str) -> Option<String> {
    let (bare, suffix) = split_suffix(symbol);
    let name = if bare.starts_with("_ZN") || bare.starts_with("_R") {
        rust(bare).or_else(|| cpp(bare))?
    } else if bare.starts_with("_Z") {
        cpp(bare)?
    } else {
        return None;
    };
    Some(format!("{name}{suffix}"))
}

/// A Rust symbol demangled without its hash.
fn rust(symbol: &str) -> Option<String> {
    let demangled = rustc_demangle::try_demangle(symbol).ok()?;
    Some(format!("{demangled:#}"))
}

/// A C++ symbol demangled as perf writes it (with its parameter list).
fn cpp(symbol: &str) -> Option<String> {
    let parsed = cpp_demangle::Symbol::new(symbol).ok()?;
    parsed.demangle().ok()
}

/// Splits an annotation inferno's collapser appends (`_[i]` for inlined,
/// `_[k]` for kernel, `_[j]` for JIT frames) off a symbol.
fn split_suffix(symbol: &str) -> (&str, &str) {
    for suffix in ["_[i]", "_[k]", "_[j]"] {
        if let Some(bare) = symbol.strip_suffix(suffix) {
            return (bare, suffix);
        }
    }
    (symbol, "")
}

/// Re-keys every frame of `frames` known by a mangled name: printed
/// demangled, identified by its symbol.
pub fn demangle_frames(frames: &mut Frames) {
    frames.identify(demangled);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_legacy_symbols_lose_their_hash() {
        assert_eq!(
            demangled("_ZN8even_odd4even17h3c858b46dca82ca7E").as_deref(),
            Some("even_odd::even")
        );
        assert_eq!(
            demangled("_ZN4core3ops8function6FnOnce9call_once17h512e68a6ef027e7cE").as_deref(),
            Some("core::ops::function::FnOnce::call_once")
        );
    }

    #[test]
    fn rust_v0_symbols_keep_their_generic_arguments() {
        let name = demangled(
            "_RINvNtCsjrHSEGnQ3l9_3std5panic12catch_unwindNCNvNtB4_2rt19lang_start_internal0iEB4_",
        )
        .unwrap();
        assert_eq!(
            name,
            "std::panic::catch_unwind::<std::rt::lang_start_internal::{closure#0}, isize>"
        );
    }

    #[test]
    fn cpp_symbols_are_demangled_and_plain_names_left_alone() {
        assert_eq!(demangled("_Z4exprv").as_deref(), Some("expr()"));
        assert_eq!(demangled("main"), None);
        assert_eq!(demangled("[unknown]"), None);
        assert_eq!(demangled("even_odd::even"), None);
    }

    #[test]
    fn inferno_annotations_stay_after_the_name() {
        assert_eq!(
            demangled("_ZN8even_odd4even17h3c858b46dca82ca7E_[i]").as_deref(),
            Some("even_odd::even_[i]")
        );
    }

    #[test]
    fn two_instances_of_one_generic_stay_two_frames() {
        let mut frames = Frames::default();
        let a = frames.intern("_ZN4core3ops8function6FnOnce9call_once17h512e68a6ef027e7cE");
        let b = frames.intern("_ZN4core3ops8function6FnOnce9call_once17h0123456789abcdefE");
        demangle_frames(&mut frames);
        assert_ne!(a, b);
        assert_eq!(frames.name(a), frames.name(b));
        assert_eq!(frames.name(a), "core::ops::function::FnOnce::call_once");
        assert_ne!(frames.identity(a), frames.identity(b));
    }
}
