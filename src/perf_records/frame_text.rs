//! Frame text as `inferno-collapse-perf` writes it for `perf script`
//! output, so that in-process stacks equal the ones autofold gets from
//! `perf script` (its fallback) and the two can be diffed.

/// The label that roots every stack: the command name, spaces made `_`.
pub fn comm_label(comm: &str) -> String {
    comm.replace(' ', "_")
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

    #[test]
    fn comm_spaces_become_underscores() {
        assert_eq!(comm_label("V8 Worker"), "V8_Worker");
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
