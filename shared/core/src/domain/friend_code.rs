//! Friend codes: 8 characters from an alphabet without look-alikes (no 0/O, 1/I/L). Lookups
//! accept any `[A-Za-z0-9]{8}` case-insensitively, so codes imported from the old server
//! (`A–Z0–9`) keep working (docs/decisions.md#d6).

use rand::Rng;

/// Length of every friend code.
pub const LEN: usize = 8;
const ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";

/// A fresh random code (uniqueness is the database's unique index).
pub fn generate() -> String {
    let mut rng = rand::rng();
    (0..LEN)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}

/// The canonical (upper-case) form of a code a user typed, if it can be a code at all.
pub fn normalize(input: &str) -> Option<String> {
    let code = input.trim();
    (code.len() == LEN && code.bytes().all(|b| b.is_ascii_alphanumeric()))
        .then(|| code.to_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    #[test]
    fn codes_use_the_unambiguous_alphabet_and_lookups_fold_case() {
        for _ in 0..200 {
            let code = super::generate();
            assert_eq!(code.len(), 8);
            assert!(!code.contains(['0', 'O', '1', 'I', 'L']), "{code}");
        }
        assert_eq!(super::normalize(" test0001 ").as_deref(), Some("TEST0001"));
        assert_eq!(super::normalize("short"), None);
        assert_eq!(super::normalize("abc-1234"), None);
    }
}
