//! Short labels for the boxes of a call graph drawing: a member's full
//! name is in its tooltip; its box shows the last two path segments, with
//! crate paths inside generics and `impl`s cut to their last segment, so
//! `syn::expr::parsing::<impl syn::parse::Parse for syn::expr::Expr>::parse`
//! is labelled `Expr::parse`.

use crate::output::report_text::shorten;

/// The longest label, in characters (longer ones lose their middle).
pub const MAX_LABEL: usize = 44;

/// The label of a box for the frame `name`.
pub fn label(name: &str) -> String {
    let segments = path_segments(name);
    let kept = &segments[segments.len().saturating_sub(2)..];
    let short: Vec<String> = kept.iter().map(|s| short_segment(s)).collect();
    shorten(&short.join("::"), MAX_LABEL)
}

/// The segments of `path` split at `::` outside angle brackets and
/// parentheses.
fn path_segments(path: &str) -> Vec<&str> {
    let mut segments = Vec::new();
    let (mut depth, mut start) = (0i32, 0);
    let bytes = path.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'<' | b'(' | b'[' => depth += 1,
            b'>' | b')' | b']' => depth -= 1,
            b':' if depth == 0 && bytes.get(i + 1) == Some(&b':') => {
                segments.push(&path[start..i]);
                start = i + 2;
                i += 1;
            }
            _ => {}
        }
        i += 1;
    }
    segments.push(&path[start..]);
    segments.retain(|s| !s.is_empty());
    if segments.is_empty() {
        segments.push(path);
    }
    segments
}

/// One segment with the paths inside it cut to their last segment:
/// `<impl A for B>` becomes `B`, `<A as B>` becomes `A`, and `f<a::X>`
/// becomes `f<X>`.
fn short_segment(segment: &str) -> String {
    if let Some(inner) = segment.strip_prefix('<').and_then(|s| s.strip_suffix('>')) {
        let own_type = match (split_top(inner, " for "), split_top(inner, " as ")) {
            (Some((_, for_type)), _) => for_type,
            (None, Some((self_type, _))) => self_type,
            _ => inner.strip_prefix("impl ").unwrap_or(inner),
        };
        return last_segment(own_type);
    }
    match segment.find('<') {
        Some(open) if segment.ends_with('>') => {
            let args = &segment[open + 1..segment.len() - 1];
            let short: Vec<String> = split_all_top(args, ",")
                .into_iter()
                .map(|a| last_segment(a.trim()))
                .collect();
            format!("{}<{}>", &segment[..open], short.join(","))
        }
        _ => segment.to_string(),
    }
}

/// The last segment of `path`, itself shortened.
fn last_segment(path: &str) -> String {
    let segments = path_segments(path);
    short_segment(segments.last().copied().unwrap_or(path))
}

/// `text` split at the first `separator` outside brackets.
fn split_top<'a>(text: &'a str, separator: &str) -> Option<(&'a str, &'a str)> {
    let mut depth = 0i32;
    for (i, c) in text.char_indices() {
        match c {
            '<' | '(' | '[' => depth += 1,
            '>' | ')' | ']' => depth -= 1,
            _ if depth == 0 && text[i..].starts_with(separator) => {
                return Some((&text[..i], &text[i + separator.len()..]));
            }
            _ => {}
        }
    }
    None
}

/// `text` split at every `separator` outside brackets.
fn split_all_top<'a>(mut text: &'a str, separator: &str) -> Vec<&'a str> {
    let mut parts = Vec::new();
    while let Some((head, rest)) = split_top(text, separator) {
        parts.push(head);
        text = rest;
    }
    parts.push(text);
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_paths_keep_their_last_two_segments() {
        assert_eq!(label("even_odd::even"), "even_odd::even");
        assert_eq!(
            label("syn::expr::parsing::unary_expr"),
            "parsing::unary_expr"
        );
        assert_eq!(
            label("rayon_core::join::join_context::{{closure}}"),
            "join_context::{{closure}}"
        );
    }

    #[test]
    fn impls_and_qualified_paths_are_named_by_their_type() {
        assert_eq!(
            label("syn::expr::parsing::<impl syn::parse::Parse for syn::expr::Expr>::parse"),
            "Expr::parse"
        );
        assert_eq!(
            label("<alloc::vec::Vec<T,A> as core::ops::drop::Drop>::drop"),
            "Vec<T,A>::drop"
        );
        assert_eq!(
            label("core::ptr::drop_in_place<syn::expr::Expr>"),
            "ptr::drop_in_place<Expr>"
        );
        assert_eq!(
            label("<rayon_core::job::StackJob<L,F,R> as rayon_core::job::Job>::execute"),
            "StackJob<L,F,R>::execute"
        );
    }

    #[test]
    fn other_names_are_left_as_they_are_or_cut_in_the_middle() {
        assert_eq!(label("factor"), "factor");
        assert_eq!(label("even (even_odd.py:3)"), "even (even_odd.py:3)");
        assert_eq!(
            label("std::vector<int>::push_back(int const&)"),
            "vector<int>::push_back(int const&)"
        );
        let long = "a".repeat(100);
        assert_eq!(label(&long).chars().count(), MAX_LABEL);
    }
}
