//! Function names as `perf script` prints them, made once for every way
//! into autofold: the perf.data reader and the sampler (their symbolizer
//! demangles what it finds in symbol tables and DWARF), and `perf script
//! --no-demangle` text (`record --perf-script`), which autofold demangles
//! itself so that each frame keeps its symbol as identity.
//!
//! The reference is perf 6.1's own output (libiberty's demangler without
//! `DMGL_PARAMS`), measured on a C++ program built with `g++ -g -O0`:
//! `calc::Walker::even`, `calc::crunch<long>` (no parameter list, no
//! return type), `calc::Walker::operator()`, and for a local entity the
//! enclosing function with its parameters,
//! `calc::Walker::odd(int, std::vector<int, std::allocator<int> > const&)::{lambda(int)#1}::operator()`.
//! Rust names lose their hash (`even_odd::crunch`), v0 names keep their
//! generic arguments (`std::rt::lang_start::<()>`), as perf prints them.
//!
//! [`demangle`] makes the name; [`function_label`] then cuts it as
//! inferno's perf collapser cuts `perf script` text into a frame (a
//! parameter list that is still there goes, the lambda above becomes
//! `calc::Walker::odd`).

use cpp_demangle::{DemangleOptions, Symbol};

/// `raw` demangled as `perf script` prints it, or `raw` itself when it is
/// not a mangled name.
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

/// C++ names as libiberty prints them without `DMGL_PARAMS`, perf's call:
/// no parameter list, return type or qualifier (`const`, `&`) of the
/// function itself; a thunk or transaction clone names its target with
/// the target's parameters.
fn cpp(raw: &str) -> Option<String> {
    if let Some((kind, target)) = special(raw) {
        let options = DemangleOptions::new().no_return_type();
        let target = Symbol::new(format!("_Z{target}"))
            .ok()?
            .demangle_with_options(&options)
            .ok()?;
        return Some(format!("{kind}{}", libiberty_style(&target)));
    }
    let options = DemangleOptions::new().no_params().no_return_type();
    let name = Symbol::new(raw)
        .ok()?
        .demangle_with_options(&options)
        .ok()?;
    Some(libiberty_style(without_qualifiers(&name)))
}

/// `name` without the qualifiers of the function it names, which
/// cpp_demangle leaves on a member of a local class (a lambda's
/// `operator() const`) and for references (`str &&`).
fn without_qualifiers(mut name: &str) -> &str {
    while let Some(rest) = [" const", " volatile", " &&", " &"]
        .iter()
        .find_map(|qualifier| name.strip_suffix(qualifier))
    {
        name = rest;
    }
    name
}

/// Where cpp_demangle's text differs from libiberty's: empty template
/// parameter packs (`, >`), integer literals (`(unsigned int)8` is `8u`),
/// `decltype(nullptr)` (`std::nullptr_t`), libstdc++'s abbreviated classes
/// ([`abbreviated`]).
fn libiberty_style(name: &str) -> String {
    const LITERALS: [(&str, &str); 6] = [
        ("(unsigned long long)", "ull"),
        ("(unsigned long)", "ul"),
        ("(unsigned int)", "u"),
        ("(long long)", "ll"),
        ("(long)", "l"),
        ("(int)", ""),
    ];
    let mut name = without_empty_packs(name);
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
    let name = replace_names(&name, "std::nullptr_t", "decltype(nullptr)");
    abbreviated(&name)
}

/// `name` without what cpp_demangle prints for empty template parameter
/// packs (`pair<int&&, 0ul, , >`), which libiberty leaves out.
fn without_empty_packs(name: &str) -> String {
    let mut name = name.to_owned();
    while let Some(at) = name.find(", ,").or_else(|| name.find(", >")) {
        name.replace_range(at..at + 2, "");
    }
    name
}

/// The classes the C++ ABI abbreviates (`Ss`, `Si`, `So`, `Sd`): short,
/// full, and the name of their constructors.
const ABBREVIATED: [(&str, &str, &str); 4] = [
    (
        "std::string",
        "std::basic_string<char, std::char_traits<char>, std::allocator<char> >",
        "basic_string",
    ),
    (
        "std::istream",
        "std::basic_istream<char, std::char_traits<char> >",
        "basic_istream",
    ),
    (
        "std::ostream",
        "std::basic_ostream<char, std::char_traits<char> >",
        "basic_ostream",
    ),
    (
        "std::iostream",
        "std::basic_iostream<char, std::char_traits<char> >",
        "basic_iostream",
    ),
];

/// `name` with the abbreviated classes as libiberty prints them (not
/// verbose, as perf asks): short (`std::istream::get`) except before a
/// constructor or destructor, which is named in full
/// (`std::basic_string<char, …>::~basic_string`). cpp_demangle prints the
/// first in full and the second short (`std::string::~string`).
fn abbreviated(name: &str) -> String {
    let mut name = name.to_owned();
    for (short, full, class) in ABBREVIATED {
        let last = short.trim_start_matches("std::");
        for tilde in ["", "~"] {
            let cut = format!("{short}::{tilde}{last}");
            name = replace_names(&name, &cut, &format!("{full}::{tilde}{class}"));
        }
        let prefix = format!("{full}::");
        let mut out = String::with_capacity(name.len());
        let mut rest = name.as_str();
        while let Some(at) = rest.find(&prefix) {
            let after = &rest[at + prefix.len()..];
            out.push_str(&rest[..at]);
            if starts_with_name(after.strip_prefix('~').unwrap_or(after), class) {
                out.push_str(&prefix);
            } else {
                out.push_str(short);
                out.push_str("::");
            }
            rest = after;
        }
        out.push_str(rest);
        name = out;
    }
    name
}

/// Whether `text` starts with the whole name `name`.
fn starts_with_name(text: &str, name: &str) -> bool {
    text.strip_prefix(name)
        .is_some_and(|after| !after.starts_with(is_identifier_char))
}

fn is_identifier_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// `text` with every `from` that is a whole name (not part of a longer
/// identifier) replaced by `to`.
fn replace_names(text: &str, from: &str, to: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(from) {
        let before = rest[..at].chars().next_back().or(out.chars().next_back());
        let whole = !before.is_some_and(is_identifier_char) && starts_with_name(&rest[at..], from);
        out.push_str(&rest[..at]);
        out.push_str(if whole { to } else { from });
        rest = &rest[at + from.len()..];
    }
    out.push_str(rest);
    out
}

/// For a special name that names a function (a thunk: `_ZTh`, `_ZTv`,
/// `_ZTc` + call offsets; a transaction clone: `_ZGTt`) + the target's
/// encoding, its kind as libiberty words it and the target's encoding.
fn special(raw: &str) -> Option<(&'static str, &str)> {
    if let Some(target) = raw.strip_prefix("_ZGTt") {
        return Some(("transaction clone for ", target));
    }
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

/// The readable name of a mangled symbol as a frame of `perf script`
/// text carries it (inferno's collapser appends `_[i]`, `_[k]` or `_[j]`
/// to inlined, kernel and JIT frames): demangled and labelled as the
/// perf.data reader names the same function, the annotation kept (a name
/// the collapser would drop stays whole: a frame of text cannot go).
/// `None` when `symbol` is not mangled (a C function, a name perf already
/// demangled, a pseudo-frame).
pub fn demangled_frame(symbol: &str) -> Option<String> {
    let (bare, suffix) = split_annotation(symbol);
    if !is_mangled(bare) {
        return None;
    }
    let name = demangle(bare);
    if name == bare {
        return None;
    }
    let label = function_label(&name).unwrap_or(name);
    Some(format!("{label}{suffix}"))
}

/// Splits an annotation inferno's collapser appends (`_[i]` for inlined,
/// `_[k]` for kernel, `_[j]` for JIT frames) off a symbol.
fn split_annotation(symbol: &str) -> (&str, &str) {
    for suffix in ["_[i]", "_[k]", "_[j]"] {
        if let Some(bare) = symbol.strip_suffix(suffix) {
            return (bare, suffix);
        }
    }
    (symbol, "")
}

/// A function name as the collapser writes it: `;` (the frame separator)
/// made `:`, and a parameter list cut off (C++ names with parameters, Java
/// signatures; `(anonymous namespace)` and Go's `.(*T)` stay). `None` for a
/// name that starts with `(`: the collapser drops such frames (a rule for
/// process names in old perf output that also catches C++ functions of an
/// anonymous namespace).
pub fn function_label(name: &str) -> Option<String> {
    if name.starts_with('(') {
        return None;
    }
    let name = name.replace(';', ":");
    let end = parameter_list_start(&name).unwrap_or(name.len());
    Some(name[..end].to_owned())
}

/// Where a top-level `(` opens a parameter list, if one does. A C++
/// operator's own symbol (`operator()`, `operator<<`, `operator->`) is part
/// of its name, as perf prints it: it opens nothing.
fn parameter_list_start(name: &str) -> Option<usize> {
    let mut depth = 0i32;
    let mut after_dot = None;
    let mut skip_to = 0;
    for (index, c) in name.char_indices() {
        if index < skip_to {
            continue;
        }
        if let Some(len) = operator_symbol_len(name, index) {
            skip_to = index + len;
            continue;
        }
        match c {
            '<' | '{' | '[' => depth += 1,
            '>' | '}' | ']' | ')' => depth -= 1,
            '(' => {
                let go_method = after_dot == Some(index);
                let anonymous = name[index..].starts_with("(anonymous namespace)");
                if depth == 0 && !go_method && !anonymous {
                    return Some(index);
                }
                depth += 1;
            }
            '.' => after_dot = Some(index + 1),
            _ => {}
        }
    }
    None
}

/// The length of the operator symbol at `index` if `name` there follows the
/// keyword `operator` (`()`, `<<=`, `->*`, `[]`, …).
fn operator_symbol_len(name: &str, index: usize) -> Option<usize> {
    const SYMBOLS: [&str; 12] = [
        "()", "[]", "<=>", "<<=", ">>=", "->*", "<<", ">>", "<=", ">=", "->", "<",
    ];
    let before = name[..index].strip_suffix("operator")?;
    let keyword = before.is_empty() || before.ends_with([':', ' ', '~']);
    if !keyword {
        return None;
    }
    let rest = &name[index..];
    SYMBOLS
        .iter()
        .chain(&[">"])
        .find(|symbol| rest.starts_with(**symbol))
        .map(|symbol| symbol.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpp_as_perf_6_1_prints_it() {
        // The program of the frame-identity test: what `perf script`
        // printed for it.
        assert_eq!(
            demangle("_ZN4calc6Walker4evenEiRKSt6vectorIiSaIiEE"),
            "calc::Walker::even"
        );
        assert_eq!(demangle("_ZN4calc6crunchIlEET_S1_"), "calc::crunch<long>");
        assert_eq!(demangle("_ZN4calc6WalkerclEi"), "calc::Walker::operator()");
        assert_eq!(
            demangle("_ZZN4calc6Walker3oddEiRKSt6vectorIiSaIiEEENKUliE_clEi"),
            "calc::Walker::odd(int, std::vector<int, std::allocator<int> > const&)::{lambda(int)#1}::operator()"
        );
        assert_eq!(demangle("_ZL10overloadedd"), "overloaded");
    }

    #[test]
    fn cpp_where_cpp_demangle_and_libiberty_differ() {
        // Checked against `c++filt -p -i`, which makes perf's call.
        assert_eq!(demangle("_ZNR1W3refEv"), "W::ref");
        assert_eq!(demangle("_ZNKR1W2crEv"), "W::cr");
        assert_eq!(demangle("_ZNSi3getEv"), "std::istream::get");
        assert_eq!(
            demangle("_ZNSsD1Ev"),
            "std::basic_string<char, std::char_traits<char>, std::allocator<char> >::~basic_string"
        );
        assert_eq!(
            demangle(
                "_ZNSt4pairIKiSt8functionIFviEEEC1IJOiEJLm0EEJEJEEERSt5tupleIJDpT_EERS7_IJDpT1_EESt12_Index_tupleIJXspT0_EEESG_IJXspT2_EEE"
            ),
            "std::pair<int const, std::function<void (int)> >::pair<int&&, 0ul>"
        );
        assert_eq!(
            demangle(
                "_ZNSt6vectorIN4llvm4json5ValueESaIS2_EE17_M_realloc_insertIJDnEEEvN9__gnu_cxx17__normal_iteratorIPS2_S4_EEDpOT_"
            ),
            "std::vector<llvm::json::Value, std::allocator<llvm::json::Value> >::_M_realloc_insert<decltype(nullptr)>"
        );
        assert_eq!(
            demangle("_ZTv0_n24_NSt9strstreamD1Ev"),
            "virtual thunk to std::strstream::~strstream()"
        );
    }

    #[test]
    fn a_perf_script_frame_is_named_as_the_perf_data_reader_names_it() {
        assert_eq!(
            demangled_frame("_ZN4calc6Walker4evenEiRKSt6vectorIiSaIiEE").as_deref(),
            Some("calc::Walker::even")
        );
        assert_eq!(
            demangled_frame("_ZZN4calc6Walker3oddEiRKSt6vectorIiSaIiEEENKUliE_clEi").as_deref(),
            Some("calc::Walker::odd")
        );
        assert_eq!(
            demangled_frame("_ZN8even_odd4even17h3c858b46dca82ca7E_[i]").as_deref(),
            Some("even_odd::even_[i]")
        );
        assert_eq!(demangled_frame("main"), None);
        assert_eq!(demangled_frame("[unknown]"), None);
        assert_eq!(demangled_frame("calc::Walker::even"), None);
        assert_eq!(demangled_frame("_Znot_a_symbol"), None);
    }

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
            "virtual thunk to v8::internal::OFStream::~OFStream()"
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

    #[test]
    fn cuts_parameter_lists_only_at_the_top_level() {
        let label = |name| function_label(name).unwrap();
        assert_eq!(label("foo(int, char**)"), "foo");
        assert_eq!(
            label("std::vector<int (*)(int)>::push_back"),
            "std::vector<int (*)(int)>::push_back"
        );
        assert_eq!(
            label("v8::internal::(anonymous namespace)::Invoke"),
            "v8::internal::(anonymous namespace)::Invoke"
        );
        assert_eq!(label("net/http.(*Client).Do"), "net/http.(*Client).Do");
        assert_eq!(label("a;b"), "a:b");
        assert_eq!(function_label("(anonymous namespace)::f"), None);
    }

    #[test]
    fn cpp_operators_keep_their_symbol() {
        let label = |name| function_label(name).unwrap();
        assert_eq!(label("Printer::operator()"), "Printer::operator()");
        assert_eq!(
            label("Printer::operator()(long) const"),
            "Printer::operator()"
        );
        assert_eq!(
            label("std::operator<< <std::char_traits<char> >(std::ostream&, char const*)"),
            "std::operator<< <std::char_traits<char> >"
        );
        assert_eq!(label("Vec::operator[](int)"), "Vec::operator[]");
        assert_eq!(label("Ptr::operator->() const"), "Ptr::operator->");
        assert_eq!(label("a::operator<(a const&)"), "a::operator<");
        assert_eq!(label("cooperator(int)"), "cooperator");
    }

    proptest::proptest! {
        /// Symbol names come from the profiled program's files: any text
        /// gets a label (or is dropped) without a panic, never longer than
        /// it was, and without `;`.
        #[test]
        fn any_name_gets_a_label(name in ".{0,60}") {
            if let Some(label) = function_label(&name) {
                proptest::prop_assert!(label.len() <= name.len());
                proptest::prop_assert!(!label.contains(';'));
            }
        }
    }
}
