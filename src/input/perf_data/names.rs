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

/// Where a top-level `(` opens a parameter list, if one does.
fn parameter_list_start(name: &str) -> Option<usize> {
    let mut depth = 0i32;
    let mut after_dot = None;
    for (index, c) in name.char_indices() {
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
    fn comm_spaces_become_underscores() {
        assert_eq!(comm_label("V8 Worker"), "V8_Worker");
    }
}
