//! Demangling as `perf script` prints names: Rust (legacy and v0) without
//! the hash, C++ without parameters or return type (perf demangles with
//! libiberty's `DMGL_NO_OPTS` unless verbose).

use cpp_demangle::{DemangleOptions, Symbol};

/// `raw` demangled, or `raw` itself when it is not a mangled name.
pub fn demangle(raw: &str) -> String {
    if let Some(name) = rust(raw) {
        return name;
    }
    if raw.starts_with("_Z")
        && let Some(name) = cpp(raw)
    {
        return name;
    }
    raw.to_owned()
}

/// Whether `raw` is a mangled name, which is unique to one function (Rust
/// legacy names carry a hash of the instance, v0 and C++ names encode the
/// full path and generic arguments).
pub fn is_mangled(raw: &str) -> bool {
    raw.starts_with("_Z") || raw.starts_with("_R")
}

/// Rust names: v0 (`_R…`), or legacy (`_ZN…17h<hash>E`, told from C++ by
/// the hash, as libiberty and perf tell them).
/// Suffixes LLVM appends (`.llvm.123`, `.cold`) are left out, as perf does.
fn rust(raw: &str) -> Option<String> {
    let mangled = if raw.starts_with("_R") {
        // v0 names have no `.` of their own.
        raw.split('.').next().unwrap_or(raw)
    } else {
        &raw[..legacy_hash_end(raw)?]
    };
    let demangled = rustc_demangle::try_demangle(mangled).ok()?;
    Some(format!("{demangled:#}"))
}

/// For a legacy-mangled Rust name, where its final `17h` + 16 hex digits +
/// `E` hash element ends (before any `.suffix` such as `.llvm.123`); `None`
/// for other names.
fn legacy_hash_end(raw: &str) -> Option<usize> {
    const HASH: usize = "17h0123456789abcdefE".len();
    if !raw.starts_with("_ZN") {
        return None;
    }
    raw.match_indices("17h").find_map(|(start, _)| {
        let hash = raw.get(start..start + HASH)?;
        let rest = &raw[start + HASH..];
        let is_hash = hash.ends_with('E')
            && hash[3..HASH - 1].bytes().all(|b| b.is_ascii_hexdigit())
            && (rest.is_empty() || rest.starts_with('.'));
        is_hash.then_some(start + HASH)
    })
}

/// C++ names as libiberty prints them without `DMGL_PARAMS`.
fn cpp(raw: &str) -> Option<String> {
    // cpp_demangle prints thunks in a form of its own: name them here.
    if let Some((kind, target)) = thunk(raw) {
        return Some(format!("{kind}{}", cpp(&format!("_Z{target}"))?));
    }
    let symbol = Symbol::new(raw).ok()?;
    let options = DemangleOptions::new().no_params().no_return_type();
    let name = symbol.demangle_with_options(&options).ok()?;
    Some(libiberty_style(&name))
}

/// Where cpp_demangle's text differs from libiberty's: an empty template
/// parameter pack (`, >`), integer literals (`(unsigned int)8` is `8u`).
fn libiberty_style(name: &str) -> String {
    const LITERALS: [(&str, &str); 6] = [
        ("(unsigned long long)", "ull"),
        ("(unsigned long)", "ul"),
        ("(unsigned int)", "u"),
        ("(long long)", "ll"),
        ("(long)", "l"),
        ("(int)", ""),
    ];
    let mut name = name.replace(", >", ">");
    for (cast, suffix) in LITERALS {
        let mut out = String::with_capacity(name.len());
        let mut rest = name.as_str();
        while let Some(at) = rest.find(cast) {
            let after = &rest[at + cast.len()..];
            let digits = after
                .char_indices()
                .take_while(|&(i, c)| c.is_ascii_digit() || (i == 0 && c == '-'))
                .count();
            out.push_str(&rest[..at]);
            if digits > 0 {
                out.push_str(&after[..digits]);
                out.push_str(suffix);
            } else {
                out.push_str(cast);
            }
            rest = &after[digits..];
        }
        out.push_str(rest);
        name = out;
    }
    name
}

/// For a thunk (`_ZTh`, `_ZTv`, `_ZTc` + call offsets + the target's
/// encoding), its kind as libiberty words it and the target's encoding.
fn thunk(raw: &str) -> Option<(&'static str, &str)> {
    let rest = raw.strip_prefix("_ZT")?;
    let (kind, mut tail, offsets) = match rest.as_bytes().first()? {
        b'h' => ("non-virtual thunk to ", rest, 1),
        b'v' => ("virtual thunk to ", rest, 1),
        b'c' => ("covariant return thunk to ", &rest[1..], 2),
        _ => return None,
    };
    for _ in 0..offsets {
        tail = skip_call_offset(tail)?;
    }
    Some((kind, tail))
}

/// `text` after one call offset: `h <number> _` or `v <number> _ <number> _`.
fn skip_call_offset(text: &str) -> Option<&str> {
    let numbers = match text.as_bytes().first()? {
        b'h' => 1,
        b'v' => 2,
        _ => return None,
    };
    let mut rest = &text[1..];
    for _ in 0..numbers {
        let number = rest.strip_prefix('n').unwrap_or(rest);
        let digits = number.bytes().take_while(u8::is_ascii_digit).count();
        rest = number[digits..].strip_prefix('_')?;
    }
    Some(rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_legacy_loses_its_hash() {
        assert_eq!(
            demangle("_ZN8even_odd6crunch17h0123456789abcdefE"),
            "even_odd::crunch"
        );
    }

    #[test]
    fn rust_legacy_decodes_escapes() {
        assert_eq!(
            demangle(
                "_ZN4core4iter5range101_$LT$impl$u20$core..iter..traits..iterator..Iterator$u20$for$u20$core..ops..range..Range$LT$A$GT$$GT$4next17h80b77b3c1fe0854dE"
            ),
            "core::iter::range::<impl core::iter::traits::iterator::Iterator for core::ops::range::Range<A>>::next"
        );
    }

    #[test]
    fn rust_v0_keeps_generic_arguments() {
        let name = demangle("_RNvMs_NtCs4fqI2P2rA04_4core3fmtNtB4_9Arguments3new");
        assert!(name.starts_with("<core::fmt::Arguments>::new"), "{name}");
    }

    #[test]
    fn cpp_loses_its_parameters() {
        assert_eq!(demangle("_ZN4node5StartEiPPc"), "node::Start");
        assert_eq!(
            demangle("_ZN2v88internal4Heap8ScavengeEv"),
            "v8::internal::Heap::Scavenge"
        );
    }

    #[test]
    fn cpp_thunks_keep_their_kind() {
        assert_eq!(
            demangle("_ZTv0_n24_N2v88internal8OFStreamD1Ev"),
            "virtual thunk to v8::internal::OFStream::~OFStream"
        );
    }

    #[test]
    fn cpp_integer_literals_as_libiberty_prints_them() {
        assert_eq!(
            libiberty_style("llvm::SmallVector<int, (unsigned int)8>"),
            "llvm::SmallVector<int, 8u>"
        );
        assert_eq!(libiberty_style("f<(int)-1, (long)2>"), "f<-1, 2l>");
    }

    #[test]
    fn rust_suffixes_are_left_out() {
        assert_eq!(
            demangle("_ZN8even_odd6crunch17h0123456789abcdefE.llvm.42"),
            "even_odd::crunch"
        );
        assert_eq!(
            demangle("_RNvCs1234_8even_odd6crunch.cold"),
            demangle("_RNvCs1234_8even_odd6crunch")
        );
    }

    #[test]
    fn c_names_stay() {
        assert_eq!(demangle("main"), "main");
    }
}
