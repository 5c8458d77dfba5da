//! Passwords: Django's strength rules, argon2id hashes (OWASP parameters: the crate's
//! defaults, m=19 MiB, t=2, p=1), and Django `pbkdf2_sha256$` hashes accepted so users moved
//! over from the old server keep their passwords (upgraded to argon2id on their next login).

use std::cell::RefCell;

use argon2::{
    Algorithm, Argon2, Block, Params, Version,
    password_hash::phc::{Output, ParamsString, PasswordHash, Salt},
};
use base64::Engine;
use subtle::ConstantTimeEq;

thread_local! {
    /// Argon2's working memory (19 MiB at the default parameters), kept by each thread that
    /// hashes (the CPU threads). Allocated per call, it let every allocator arena keep its own
    /// peak: 230 MB of RSS after a login burst, against ~40 MB with this.
    static BLOCKS: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// Runs argon2 into `out`, on this thread's reused memory.
fn argon2_into(argon: &Argon2, pwd: &[u8], salt: &[u8], out: &mut [u8]) -> argon2::Result<()> {
    BLOCKS.with_borrow_mut(|blocks| {
        let need = argon.params().block_count();
        if blocks.len() != need {
            // Stored hashes with other parameters are rare (none are written): size to fit.
            *blocks = vec![Block::default(); need];
        }
        argon.hash_password_into_with_memory(pwd, salt, out, blocks.as_mut_slice())
    })
}

/// Shortest accepted password.
pub const MIN_LEN: usize = 8;
const COMMON: &str = include_str!("common_passwords.txt");

/// Django's validators: minimum length, not a common password, not entirely numeric.
pub fn strength_errors(password: &str) -> Vec<String> {
    let mut errors = Vec::new();
    if password.chars().count() < MIN_LEN {
        errors.push(format!(
            "This password is too short. It must contain at least {MIN_LEN} characters."
        ));
    }
    let lowered = password.trim().to_lowercase();
    if COMMON.lines().any(|c| c == lowered) {
        errors.push("This password is too common.".to_owned());
    }
    if !password.is_empty() && password.chars().all(|c| c.is_ascii_digit()) {
        errors.push("This password is entirely numeric.".to_owned());
    }
    errors
}

/// An argon2id PHC string. CPU-heavy (tens of ms): call it off the async executor.
pub fn hash(password: &str) -> anyhow::Result<String> {
    let params = Params::default();
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let salt = Salt::generate();
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    argon2_into(&argon, password.as_bytes(), salt.as_ref(), &mut out)
        .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|e| anyhow::anyhow!("{e}"))?,
        salt: Some(salt),
        hash: Some(Output::new(&out).map_err(|e| anyhow::anyhow!("{e}"))?),
    };
    Ok(phc.to_string())
}

/// Does `password` give the argon2 PHC hash `stored`? Same algorithm, version, parameters and
/// salt as the stored hash; the outputs are compared in constant time.
fn verify_argon2(password: &str, stored: &str) -> Option<bool> {
    let phc = PasswordHash::new(stored).ok()?;
    let algorithm = Algorithm::try_from(phc.algorithm.as_str()).ok()?;
    let version = match phc.version {
        Some(v) => Version::try_from(v).ok()?,
        None => Version::default(),
    };
    let params = Params::try_from(&phc).ok()?;
    let (salt, expected) = (phc.salt?, phc.hash?);
    let mut out = vec![0u8; expected.len()];
    argon2_into(
        &Argon2::new(algorithm, version, params),
        password.as_bytes(),
        salt.as_ref(),
        &mut out,
    )
    .ok()?;
    Some(out.ct_eq(expected.as_ref()).into())
}

/// The outcome of checking a password against a stored hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verified {
    /// Matches an argon2id hash.
    Ok,
    /// Matches a legacy hash: store a fresh argon2id hash.
    OkNeedsUpgrade,
    /// Wrong password, or an unusable stored hash.
    Mismatch,
}

fn verify_django_pbkdf2(password: &str, stored: &str) -> bool {
    let mut parts = stored.split('$');
    let (Some("pbkdf2_sha256"), Some(iterations), Some(salt), Some(expected), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return false;
    };
    let Ok(iterations) = iterations.parse::<u32>() else {
        return false;
    };
    let Ok(expected) = base64::engine::general_purpose::STANDARD.decode(expected) else {
        return false;
    };
    if expected.is_empty() || iterations == 0 {
        return false;
    }
    let mut derived = vec![0u8; expected.len()];
    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(
        password.as_bytes(),
        salt.as_bytes(),
        iterations,
        &mut derived,
    );
    derived.ct_eq(&expected).into()
}

/// Checks `password` against `stored` (argon2 PHC or Django pbkdf2). CPU-heavy.
pub fn verify(password: &str, stored: &str) -> Verified {
    if stored.starts_with("pbkdf2_sha256$") {
        return if verify_django_pbkdf2(password, stored) {
            Verified::OkNeedsUpgrade
        } else {
            Verified::Mismatch
        };
    }
    if verify_argon2(password, stored) == Some(true) {
        Verified::Ok
    } else {
        Verified::Mismatch
    }
}

/// Burns the same time as a real verification, so a missing user is not distinguishable
/// from a wrong password by timing.
pub fn verify_dummy(password: &str) {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let stored = DUMMY.get_or_init(|| hash("dummy-password-for-timing").unwrap_or_default());
    let _ = verify(password, stored);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strength_rules_match_django() {
        assert!(strength_errors("correct horse battery").is_empty());
        assert_eq!(strength_errors("short").len(), 1);
        let errs = strength_errors("12345678");
        assert!(errs.iter().any(|e| e.contains("too common")));
        assert!(errs.iter().any(|e| e.contains("entirely numeric")));
        assert!(
            strength_errors("Password")
                .iter()
                .any(|e| e.contains("too common"))
        );
    }

    #[test]
    fn argon2_round_trips() {
        let h = hash("s3cret-pass").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert_eq!(verify("s3cret-pass", &h), Verified::Ok);
        assert_eq!(verify("wrong-pass", &h), Verified::Mismatch);
        assert_eq!(verify("x", "garbage"), Verified::Mismatch);
    }

    #[test]
    fn hashes_interoperate_with_the_argon2_crates_own_hasher() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        // Ours verify with the crate's verifier...
        let ours = hash("s3cret-pass").unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"s3cret-pass", &parsed)
                .is_ok()
        );
        // ...and hashes the crate made (as earlier releases stored them) verify with ours,
        // also at other parameters (the reused memory is resized) and back again.
        let theirs = Argon2::default()
            .hash_password(b"old-pass-1")
            .unwrap()
            .to_string();
        assert_eq!(verify("old-pass-1", &theirs), Verified::Ok);
        let small = Params::new(4096, 3, 1, None).unwrap();
        let small = Argon2::new(Algorithm::Argon2id, Version::V0x13, small)
            .hash_password(b"old-pass-2")
            .unwrap()
            .to_string();
        assert_eq!(verify("old-pass-2", &small), Verified::Ok);
        assert_eq!(verify("old-pass-3", &small), Verified::Mismatch);
        assert_eq!(verify("s3cret-pass", &ours), Verified::Ok);
        // Tampering with the stored output is a mismatch, never a panic.
        let cut = &ours[..ours.len() - 4];
        assert_eq!(verify("s3cret-pass", cut), Verified::Mismatch);
    }

    #[test]
    fn django_pbkdf2_hashes_verify_and_ask_for_an_upgrade() {
        // Django's format with an independently computed digest (Python's hashlib.pbkdf2_hmac,
        // which Django's PBKDF2PasswordHasher calls); 1000 iterations keep the test fast.
        let stored = "pbkdf2_sha256$1000$seasalt2$ABPNVLVV1vRC5OnBCpgwRvsTOJaXds28OSzNig3GR2M=";
        assert_eq!(verify("lètmein", stored), Verified::OkNeedsUpgrade);
        assert_eq!(verify("letmein", stored), Verified::Mismatch);
        assert_eq!(verify("lètmein", "pbkdf2_sha256$x$y$z"), Verified::Mismatch);
    }
}
