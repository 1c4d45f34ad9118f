//! Finding the `;` that separate a folded line's frames: the parser asks
//! for every one in a line, so this runs over every byte of the input,
//! sixteen bytes at a time with SSE2, else eight.

/// Appends to `out` the position (plus `offset`) of every `;` in `bytes`:
/// sixteen bytes at a time where SSE2 is there (every x86-64), else eight.
pub(crate) fn push_separators(bytes: &[u8], offset: usize, out: &mut Vec<usize>) {
    #[cfg(target_arch = "x86_64")]
    let (bytes, offset) = {
        let wide = bytes.len() / 16 * 16;
        // SAFETY: SSE2 is part of every x86-64 processor.
        unsafe { push_separators_sse2(&bytes[..wide], offset, out) };
        (&bytes[wide..], offset + wide)
    };
    push_separators_swar(bytes, offset, out);
}

/// [`push_separators`] for a multiple of sixteen bytes: one compare and
/// one mask a block, then one step per `;`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "sse2")]
fn push_separators_sse2(bytes: &[u8], offset: usize, out: &mut Vec<usize>) {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8,
    };
    let semicolons = _mm_set1_epi8(b';' as i8);
    let mut base = offset;
    for chunk in bytes.chunks_exact(16) {
        // SAFETY: `chunk` is 16 readable bytes; the load needs no alignment.
        let block = unsafe { _mm_loadu_si128(chunk.as_ptr().cast::<__m128i>()) };
        let mut found = _mm_movemask_epi8(_mm_cmpeq_epi8(block, semicolons)) as u32;
        while found != 0 {
            out.push(base + found.trailing_zeros() as usize);
            found &= found - 1;
        }
        base += 16;
    }
}

/// [`push_separators`] eight bytes at a time in plain integer arithmetic:
/// a word with no `;` costs a few operations, and each `;` one more.
fn push_separators_swar(bytes: &[u8], offset: usize, out: &mut Vec<usize>) {
    const LOW: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const SEMICOLONS: u64 = 0x0101_0101_0101_0101 * b';' as u64;
    let mut chunks = bytes.chunks_exact(8);
    let mut base = offset;
    for chunk in &mut chunks {
        let word = u64::from_le_bytes(chunk.try_into().expect("8 bytes")) ^ SEMICOLONS;
        // The high bit of each byte that was a `;` (is zero now), exactly.
        let mut found = !(((word & LOW).wrapping_add(LOW)) | word) & !LOW;
        while found != 0 {
            out.push(base + (found.trailing_zeros() / 8) as usize);
            found &= found - 1;
        }
        base += 8;
    }
    let tail = chunks.remainder().iter().enumerate();
    out.extend(tail.filter(|&(_, &b)| b == b';').map(|(i, _)| base + i));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separators_are_found_in_every_position_of_a_word() {
        for len in 0..40 {
            for at in 0..len {
                let mut bytes = vec![b'x'; len];
                bytes[at] = b';';
                if at + 3 < len {
                    bytes[at + 3] = b';';
                }
                let expected: Vec<usize> = (0..len)
                    .filter(|&i| bytes[i] == b';')
                    .map(|i| i + 100)
                    .collect();
                let mut found = Vec::new();
                push_separators(&bytes, 100, &mut found);
                assert_eq!(found, expected, "len {len}, at {at}");
                found.clear();
                push_separators_swar(&bytes, 100, &mut found);
                assert_eq!(found, expected, "eight at a time: len {len}, at {at}");
            }
        }
        let mut found = Vec::new();
        push_separators("é;\u{3b};\u{ff1b}".as_bytes(), 0, &mut found);
        assert_eq!(found, [2, 3, 4]);
    }
}
