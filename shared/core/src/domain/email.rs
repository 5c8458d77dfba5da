//! Email addresses: a pragmatic version of Django's `EmailValidator`; the domain part is
//! lower-cased (Django's `normalize_email`). Uniqueness is case-insensitive in the database.

/// Longest accepted address.
pub const MAX_LEN: usize = 254;

fn valid_local(local: &str) -> bool {
    !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| c.is_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c))
}

fn valid_domain(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    (labels.len() >= 2 || domain == "localhost")
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
        && labels
            .last()
            .is_some_and(|tld| !tld.chars().all(|c| c.is_ascii_digit()))
}

/// Validates and normalises an address, or returns the field's error messages.
pub fn parse(raw: &str) -> Result<String, Vec<String>> {
    let email = raw.trim();
    if email.is_empty() {
        return Err(vec!["This field may not be blank.".to_owned()]);
    }
    let mut errors = Vec::new();
    if email.chars().count() > MAX_LEN {
        errors.push(format!(
            "Ensure this field has no more than {MAX_LEN} characters."
        ));
    }
    match email.rsplit_once('@') {
        Some((local, domain)) if valid_local(local) && valid_domain(domain) => {
            if errors.is_empty() {
                return Ok(format!("{local}@{}", domain.to_lowercase()));
            }
        }
        _ => errors.push("Enter a valid email address.".to_owned()),
    }
    Err(errors)
}

#[cfg(test)]
mod tests {
    #[test]
    fn emails_are_validated_and_domains_lowercased() {
        assert_eq!(super::parse("Ash@Pallet.TOWN").unwrap(), "Ash@pallet.town");
        assert_eq!(
            super::parse("a.b+c@sub.example.co").unwrap(),
            "a.b+c@sub.example.co"
        );
        for bad in [
            "no-at",
            "a@b",
            "@x.com",
            "a@@x.com",
            "a b@x.com",
            "a@x..com",
            "a@-x.com",
            ".a@x.com",
        ] {
            assert!(super::parse(bad).is_err(), "{bad}");
        }
    }
}
