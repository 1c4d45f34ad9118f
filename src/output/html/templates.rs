//! The page's assets, embedded at compile time: the HTML templates (filled
//! by minijinja, which escapes every value unless the template marks it
//! safe), the stylesheet and the scripts.

use std::io::{self, Write};

use minijinja::value::Serde;
use minijinja::{AutoEscape, Environment};
use serde::Serialize;

/// The page's stylesheet.
pub const STYLE: &str = include_str!("assets/page.css");

/// The script that runs first, in the head: shows script errors.
pub const EARLY_SCRIPT: &str = include_str!("assets/early.js");

/// The page's script, at its end.
pub const SCRIPT: &str = include_str!("assets/page.js");

/// The templates, by name.
const TEMPLATES: [(&str, &str); 5] = [
    ("page.html", include_str!("assets/page.html")),
    ("cycle_table.html", include_str!("assets/cycle_table.html")),
    (
        "cycle_section.html",
        include_str!("assets/cycle_section.html"),
    ),
    ("drawing.svg", include_str!("assets/drawing.svg")),
    ("rest.html", include_str!("assets/rest.html")),
];

/// Writes the page `page.html` filled with `context` into `out`.
pub fn render_page(context: &impl Serialize, out: &mut dyn Write) -> io::Result<()> {
    let mut env = Environment::new();
    // The SVG drawing is markup too: escape everything everywhere.
    env.set_auto_escape_callback(|_| AutoEscape::Html);
    for (name, source) in TEMPLATES {
        env.add_template(name, source).map_err(io::Error::other)?;
    }
    let page = env.get_template("page.html").map_err(io::Error::other)?;
    page.render_captured_to(Serde(context), out)
        .map(|_| ())
        .map_err(io::Error::other)
}
