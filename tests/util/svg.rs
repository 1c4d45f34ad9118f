//! The frames of a flame graph as drawn: read from the SVG inferno wrote or
//! from the DOM a browser dumped after the page script ran.

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

/// One frame (`<g>` under `<svg id="frames">`).
#[derive(Debug, Clone, Default)]
pub struct DrawnFrame {
    /// The tooltip: the `<title>` text.
    pub title: String,
    /// The label shown in the box: the `<text>` text.
    pub label: String,
    /// The `<g>`'s `class` attribute (the page script adds `hide`, `parent`).
    pub class: String,
    /// The rectangle's `fill`.
    pub fill: String,
    /// The rectangle's `fg:x` (its first sample) and `y`: what the page
    /// script's `?x=…&y=…` zoom parameters name.
    pub fg_x: String,
    /// The rectangle's `y`.
    pub y: String,
    /// The rectangle's `fg:w`: its samples.
    pub samples: u64,
}

impl DrawnFrame {
    /// The frame's name: the title before its final ` (` group.
    pub fn name(&self) -> &str {
        self.title
            .rfind(" (")
            .map_or(self.title.as_str(), |i| &self.title[..i])
    }
}

/// Every frame of the flame graph in `svg`, in document order.
pub fn frames(svg: &str) -> Vec<DrawnFrame> {
    let mut reader = Reader::from_str(svg);
    let mut frames = Vec::new();
    let (mut in_frames, mut current, mut reading): (bool, Option<DrawnFrame>, Option<&str>) =
        (false, None, None);
    loop {
        match reader.read_event().expect("well-formed SVG") {
            Event::Start(e) if e.local_name().as_ref() == "svg" => {
                in_frames = attribute(&e, "id").as_deref() == Some("frames");
            }
            Event::Start(e) if in_frames && e.local_name().as_ref() == "g" => {
                current = Some(DrawnFrame {
                    class: attribute(&e, "class").unwrap_or_default(),
                    ..DrawnFrame::default()
                });
            }
            Event::Start(e) if current.is_some() => {
                reading = match e.local_name().as_ref() {
                    "title" => Some("title"),
                    "text" => Some("text"),
                    _ => None,
                };
            }
            Event::Empty(e) if e.local_name().as_ref() == "rect" => {
                if let Some(frame) = &mut current {
                    frame.fill = attribute(&e, "fill").unwrap_or_default();
                    frame.fg_x = attribute(&e, "fg:x").unwrap_or_default();
                    frame.y = attribute(&e, "y").unwrap_or_default();
                    frame.samples = attribute(&e, "fg:w").map_or(0, |w| w.parse().unwrap());
                }
            }
            Event::Text(t) => push_text(&mut current, reading, &t.into_inner()),
            Event::GeneralRef(r) => {
                let text = match r.resolve_char_ref().unwrap() {
                    Some(c) => c.to_string(),
                    None => named_entity(&r.into_inner()).to_string(),
                };
                push_text(&mut current, reading, &text);
            }
            Event::End(e) => match e.local_name().as_ref() {
                "g" => frames.extend(current.take()),
                "svg" => in_frames = false,
                _ => reading = None,
            },
            Event::Eof => break,
            _ => {}
        }
    }
    frames
}

fn push_text(frame: &mut Option<DrawnFrame>, reading: Option<&str>, text: &str) {
    match (frame, reading) {
        (Some(frame), Some("title")) => frame.title.push_str(text),
        (Some(frame), Some("text")) => frame.label.push_str(text),
        _ => {}
    }
}

fn named_entity(name: &str) -> &'static str {
    match name {
        "amp" => "&",
        "lt" => "<",
        "gt" => ">",
        "quot" => "\"",
        "apos" => "'",
        other => panic!("unknown entity &{other};"),
    }
}

fn attribute(e: &BytesStart, name: &str) -> Option<String> {
    e.attributes()
        .map(|a| a.expect("well-formed attribute"))
        .find(|a| a.key.as_ref() == name)
        .map(|a| {
            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .expect("valid value")
                .into_owned()
        })
}

/// The frames named `name`, widest first.
pub fn frames_named<'a>(frames: &'a [DrawnFrame], name: &str) -> Vec<&'a DrawnFrame> {
    let mut found: Vec<&DrawnFrame> = frames.iter().filter(|f| f.name() == name).collect();
    found.sort_by_key(|f| std::cmp::Reverse(f.samples));
    found
}
