//! Short labels for the boxes of a call graph drawing: a member's full
//! name is in its tooltip; its box shows the last two path segments, with
//! crate paths inside generics and `impl`s cut to their last segment, so
//! `syn::expr::parsing::<impl syn::parse::Parse for syn::expr::Expr>::parse`
//! is labelled `Expr::parse`. Where two boxes of one drawing would read
//! alike, each gets the shortest qualifier that tells it apart
//! ([`distinct_labels`]).

use rustc_hash::FxHashMap;

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

/// The labels of the boxes for the frames `names`, no two alike: each
/// starts as [`label`]; where several are equal, each of them gets the
/// shortest qualifier that sets it apart from the others: more of its
/// path (`x::Foo::parse` beside `y::Foo::parse`), then its generic
/// arguments and paths in full, then, for names that print alike
/// (monomorphisations of one generic function), its number among them
/// (`ParseBuffer::parse #2`). A box's tooltip keeps the full name.
pub fn distinct_labels(names: &[&str]) -> Vec<String> {
    let details: Vec<Vec<String>> = names.iter().map(|n| label_details(n)).collect();
    let mut level = vec![0; names.len()];
    loop {
        let labels = labels_at(&details, &level);
        let deeper: Vec<usize> = (0..names.len())
            .filter(|&i| level[i] + 1 < details[i].len())
            .filter(|&i| (0..names.len()).any(|j| labels[j] == labels[i] && names[j] != names[i]))
            .collect();
        if deeper.is_empty() {
            break;
        }
        deeper.iter().for_each(|&i| level[i] += 1);
    }
    numbered(labels_at(&details, &level))
}

/// The labels `details[i][level[i]]`.
fn labels_at(details: &[Vec<String>], level: &[usize]) -> Vec<String> {
    details
        .iter()
        .zip(level)
        .map(|(d, &l)| d[l].clone())
        .collect()
}

/// The indices of the labels some other label equals.
fn colliding(labels: &[String]) -> Vec<usize> {
    let mut counts: FxHashMap<&str, usize> = FxHashMap::default();
    for l in labels {
        *counts.entry(l).or_default() += 1;
    }
    (0..labels.len())
        .filter(|&i| counts[labels[i].as_str()] > 1)
        .collect()
}

/// `labels` with those still alike numbered, `#1`, `#2`, … in order.
fn numbered(mut labels: Vec<String>) -> Vec<String> {
    let alike = colliding(&labels);
    let mut seen: FxHashMap<String, usize> = FxHashMap::default();
    for i in alike {
        let n = seen.entry(labels[i].clone()).or_default();
        *n += 1;
        labels[i] = format!("{} #{n}", labels[i]);
    }
    labels
}

/// The labels of `name` from the shortest to the fullest, each new one
/// telling more: [`label`], then one more path segment at a time, then
/// the last segments unshortened, then the whole name.
fn label_details(name: &str) -> Vec<String> {
    let segments = path_segments(name);
    let mut details = Vec::new();
    for kept in 2..=segments.len().max(2) {
        let tail = &segments[segments.len().saturating_sub(kept)..];
        let short: Vec<String> = tail.iter().map(|s| short_segment(s)).collect();
        details.push(shorten(&short.join("::"), MAX_LABEL));
    }
    let full_tail = segments[segments.len().saturating_sub(2)..].join("::");
    details.push(shorten(&full_tail, MAX_LABEL));
    details.push(shorten(name, MAX_LABEL));
    let mut seen = Vec::new();
    details.retain(|d| {
        !seen.contains(d) && {
            seen.push(d.clone());
            true
        }
    });
    details
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
    fn boxes_that_would_read_alike_get_the_shortest_qualifier_that_differs() {
        let names = [
            "syn::parse::ParseBuffer::parse",
            "syn::expr::parsing::unary_expr",
            "syn::parse::ParseBuffer::parse",
            "a::x::Foo::parse",
            "b::y::Foo::parse",
            "syn::parse::ParseBuffer::parse",
            "core::ptr::drop_in_place<syn::expr::Expr>",
            "core::ptr::drop_in_place<other::Expr>",
            "c::z::Foo::parse",
        ];
        assert_eq!(
            distinct_labels(&names),
            [
                // Names alike: only their order tells them apart.
                "ParseBuffer::parse #1",
                // No other box reads so: left as it is.
                "parsing::unary_expr",
                "ParseBuffer::parse #2",
                // One more segment of the path is enough.
                "x::Foo::parse",
                "y::Foo::parse",
                "ParseBuffer::parse #3",
                // The generic argument's path, in full.
                "ptr::drop_in_place<syn::expr::Expr>",
                "ptr::drop_in_place<other::Expr>",
                "z::Foo::parse",
            ]
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
