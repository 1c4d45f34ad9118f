//! inferno's flame graph, made to stand inline in the page.
//!
//! The SVG that `render.rs` writes (cycle frames blue, their members in
//! their tooltips) is embedded as it is, script and style included, less
//! what only a standalone SVG file has: the XML declaration and doctype,
//! and its `onload` handler (the page's script starts inferno's once it has
//! moved the zoom out of the address, see `page.js`). It must be the
//! page's first `<svg>`: inferno's script takes the first one for its own.

use std::io;

/// The attribute on the flame graph's `<svg>`, which the page's script and
/// stylesheet find it by.
pub const FLAME_GRAPH_CLASS: &str = "flamegraph";

/// The SVG `svg` (as inferno wrote it) as an element for an HTML page.
pub fn inline(svg: &[u8]) -> io::Result<String> {
    let svg = std::str::from_utf8(svg).map_err(io::Error::other)?;
    let start = svg
        .find("<svg")
        .ok_or_else(|| io::Error::other("inferno wrote no <svg> element"))?;
    let svg = &svg[start..];
    let tag_end = svg
        .find('>')
        .ok_or_else(|| io::Error::other("inferno's <svg> tag is not closed"))?;
    let tag = svg[..tag_end]
        .replace(" onload=\"init(evt)\"", "")
        .replacen("<svg", &format!("<svg class=\"{FLAME_GRAPH_CLASS}\""), 1);
    Ok(format!("{tag}{}", &svg[tag_end..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_declaration_doctype_and_onload_go_the_rest_stays() {
        let svg = "<?xml version=\"1.0\" standalone=\"no\"?><!DOCTYPE svg PUBLIC \"x\" \"y\">\
                   <svg version=\"1.1\" onload=\"init(evt)\" width=\"1200\"><g>onload</g></svg>";
        assert_eq!(
            inline(svg.as_bytes()).unwrap(),
            "<svg class=\"flamegraph\" version=\"1.1\" width=\"1200\"><g>onload</g></svg>"
        );
    }

    #[test]
    fn anything_but_an_svg_is_an_error() {
        assert!(inline(b"<html></html>").is_err());
    }
}
