//! Usernames: Django's `UnicodeUsernameValidator` (letters, digits and `@.+-_`), at most 150
//! characters, NFKC-normalised.

use unicode_normalization::UnicodeNormalization;

/// Longest accepted username.
pub const MAX_LEN: usize = 150;

/// Normalises and validates a username, or returns the field's error messages.
pub fn parse(raw: &str) -> Result<String, Vec<String>> {
    let name: String = raw.trim().nfkc().collect();
    let mut errors = Vec::new();
    if name.is_empty() {
        errors.push("This field may not be blank.".to_owned());
        return Err(errors);
    }
    if name.chars().count() > MAX_LEN {
        errors.push(format!(
            "Ensure this field has no more than {MAX_LEN} characters."
        ));
    }
    if !name
        .chars()
        .all(|c| c.is_alphanumeric() || "@.+-_".contains(c))
    {
        errors.push(
            "Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters."
                .to_owned(),
        );
    }
    if errors.is_empty() {
        Ok(name)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn usernames_follow_djangos_rules() {
        assert_eq!(
            super::parse(" ash.ketchum+1@x ").unwrap(),
            "ash.ketchum+1@x"
        );
        assert_eq!(super::parse("Zoë_42").unwrap(), "Zoë_42");
        // NFKC folds compatibility characters (fullwidth letters).
        assert_eq!(super::parse("ＡＳＨ").unwrap(), "ASH");
        assert!(super::parse("has space").is_err());
        assert!(super::parse("semi;colon").is_err());
        assert!(super::parse("").is_err());
        assert!(super::parse(&"a".repeat(151)).is_err());
    }
}
