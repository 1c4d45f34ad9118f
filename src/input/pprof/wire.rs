//! The protobuf wire format, walked at the top level only: enough to
//! recognise a pprof profile from its first bytes, and to say at which byte
//! a broken file goes wrong (prost's own errors name no offset).

/// A protobuf wire type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wire {
    Varint,
    Fixed64,
    Len,
    Fixed32,
}

/// One field: its number, wire type, and where it starts, where its
/// content starts and where it ends.
struct Field {
    number: u64,
    wire: Wire,
    start: usize,
    content: usize,
    end: usize,
}

/// Why a field could not be read.
enum Broken {
    /// The bytes end inside the field.
    Truncated,
    /// Anything else, said in words.
    Invalid(String),
}

/// The messages of pprof's schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Message {
    Profile,
    ValueType,
    Sample,
    Label,
    Mapping,
    Location,
    Line,
    Function,
}

/// What field `number` of `message` may be: its wire types, and the message
/// inside it when it is one.
fn field_kind(message: Message, number: u64) -> Option<(&'static [Wire], Option<Message>)> {
    const VARINT: &[Wire] = &[Wire::Varint];
    const LEN: &[Wire] = &[Wire::Len];
    const REPEATED_INT: &[Wire] = &[Wire::Varint, Wire::Len];
    use Message::*;
    Some(match (message, number) {
        (Profile, 1 | 11) => (LEN, Some(ValueType)),
        (Profile, 2) => (LEN, Some(Sample)),
        (Profile, 3) => (LEN, Some(Mapping)),
        (Profile, 4) => (LEN, Some(Location)),
        (Profile, 5) => (LEN, Some(Function)),
        (Profile, 6) => (LEN, None),
        (Profile, 7..=10 | 12 | 14 | 15) => (VARINT, None),
        (Profile, 13) => (REPEATED_INT, None),
        (ValueType, 1 | 2) => (VARINT, None),
        (Sample, 1 | 2) => (REPEATED_INT, None),
        (Sample, 3) => (LEN, Some(Label)),
        (Label, 1..=4) => (VARINT, None),
        (Mapping, 1..=10) => (VARINT, None),
        (Location, 1..=3 | 5) => (VARINT, None),
        (Location, 4) => (LEN, Some(Line)),
        (Line, 1..=3) => (VARINT, None),
        (Function, 1..=5) => (VARINT, None),
        _ => return None,
    })
}

/// Whether `bytes` (the start of an input, or all of it) look like a pprof
/// profile: only fields of pprof's schema with their wire types, every
/// message inside them well formed too, and a sample type or the string
/// table among them. The last top-level field may run past the bytes: the
/// head ends there, or the file was cut short, which the reader then
/// reports with the byte where the cut field starts.
pub fn looks_like_profile(bytes: &[u8]) -> bool {
    let mut at = 0;
    let mut essential = false;
    while at < bytes.len() {
        match field_at(bytes, at) {
            Ok(field) => {
                if check_field(bytes, &field, Message::Profile, true).is_err() {
                    return false;
                }
                essential |= field.number == 1 || field.number == 6;
                at = field.end;
            }
            Err(Broken::Truncated) => return essential,
            Err(Broken::Invalid(_)) => return false,
        }
    }
    essential
}

/// Checks that `bytes` are a well-formed pprof profile down to its last
/// field (unknown fields allowed, as protobuf allows them); otherwise the
/// byte offset of the first broken field and what is wrong.
pub fn check_fields(bytes: &[u8]) -> Result<(), (usize, String)> {
    check_message(bytes, 0, bytes.len(), Message::Profile, false)
}

/// Checks the fields of `message` in `bytes[start..end]`; `strict` refuses
/// fields the schema does not have.
fn check_message(
    bytes: &[u8],
    start: usize,
    end: usize,
    message: Message,
    strict: bool,
) -> Result<(), (usize, String)> {
    let within = &bytes[..end];
    let mut at = start;
    while at < end {
        let field = field_at(within, at).map_err(|broken| match broken {
            Broken::Truncated => (
                at,
                "the data ends inside this field (truncated file?)".into(),
            ),
            Broken::Invalid(what) => (at, what),
        })?;
        check_field(bytes, &field, message, strict)?;
        at = field.end;
    }
    Ok(())
}

/// Checks one field of `message` against the schema, and what is inside it.
fn check_field(
    bytes: &[u8],
    field: &Field,
    message: Message,
    strict: bool,
) -> Result<(), (usize, String)> {
    let Some((wires, inner)) = field_kind(message, field.number) else {
        return match strict {
            true => Err((
                field.start,
                format!("{message:?} has no field {}", field.number),
            )),
            false => Ok(()),
        };
    };
    if !wires.contains(&field.wire) {
        return Err((
            field.start,
            format!(
                "field {} of {message:?} has the wrong wire type ({:?})",
                field.number, field.wire
            ),
        ));
    }
    match (field.wire, inner) {
        (Wire::Len, Some(inner)) => check_message(bytes, field.content, field.end, inner, strict),
        (Wire::Len, None) if wires.contains(&Wire::Varint) => packed_varints(bytes, field),
        _ => Ok(()),
    }
}

/// Checks that a packed repeated field holds only whole varints.
fn packed_varints(bytes: &[u8], field: &Field) -> Result<(), (usize, String)> {
    let within = &bytes[..field.end];
    let mut at = field.content;
    while at < field.end {
        at = varint(within, at)
            .map_err(|_| (at, format!("a broken number in field {}", field.number)))?
            .1;
    }
    Ok(())
}

/// The field that starts at byte `at`.
fn field_at(bytes: &[u8], at: usize) -> Result<Field, Broken> {
    let (tag, mut end) = varint(bytes, at)?;
    let number = tag >> 3;
    if number == 0 {
        return Err(Broken::Invalid("field number 0".into()));
    }
    let wire = match tag & 7 {
        0 => Wire::Varint,
        1 => Wire::Fixed64,
        2 => Wire::Len,
        5 => Wire::Fixed32,
        other => {
            return Err(Broken::Invalid(format!(
                "wire type {other} (groups or worse) in field {number}"
            )));
        }
    };
    let mut content = end;
    end = match wire {
        Wire::Varint => varint(bytes, end)?.1,
        Wire::Fixed64 => end + 8,
        Wire::Fixed32 => end + 4,
        Wire::Len => {
            let (len, start) = varint(bytes, end)?;
            content = start;
            start
                .checked_add(usize::try_from(len).map_err(|_| Broken::Truncated)?)
                .ok_or(Broken::Truncated)?
        }
    };
    if end > bytes.len() {
        return Err(Broken::Truncated);
    }
    Ok(Field {
        number,
        wire,
        start: at,
        content,
        end,
    })
}

/// The varint at `at` and the offset just past it.
fn varint(bytes: &[u8], at: usize) -> Result<(u64, usize), Broken> {
    let mut value = 0u64;
    for i in 0..10 {
        let Some(&byte) = bytes.get(at + i) else {
            return Err(Broken::Truncated);
        };
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Ok((value, at + i + 1));
        }
    }
    Err(Broken::Invalid("a varint longer than 10 bytes".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_does_not_look_like_a_profile() {
        for text in [
            &b"a;b 1\n"[..],
            b"\nP 1\n",
            b"\n\np;a 1\np;b x\n",
            b"PERFILE2",
            b"{\"nodes\":[]}",
            b"",
        ] {
            assert!(!looks_like_profile(text), "{text:?}");
        }
    }

    #[test]
    fn a_sample_type_then_a_cut_looks_like_a_profile() {
        // sample_type { type: 1, unit: 2 }, then a string table entry cut short.
        let bytes = [0x0a, 0x04, 0x08, 0x01, 0x10, 0x02, 0x32, 0x10, b's'];
        assert!(looks_like_profile(&bytes));
        assert_eq!(check_fields(&bytes).unwrap_err().0, 6);
    }
}
