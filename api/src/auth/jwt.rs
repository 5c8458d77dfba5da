//! HS256 JWTs signed with `SECRET_KEY`, with simplejwt's claims:
//! `token_type`, `exp`, `iat`, `jti` (32 hex characters) and `user_id`.

use std::time::Duration;

use actix_web::HttpMessage;

use biologidex_core::ids::UserId;
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, errors::ErrorKind};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Access or refresh.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenType {
    Access,
    Refresh,
}

impl TokenType {
    fn as_str(self) -> &'static str {
        match self {
            TokenType::Access => "access",
            TokenType::Refresh => "refresh",
        }
    }
}

/// The claims of both token types.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub token_type: String,
    pub exp: i64,
    /// Seconds with a fraction: a password change must refuse tokens issued a moment before
    /// it while keeping the pair issued a moment after it (RFC 7519 allows fractions).
    pub iat: f64,
    pub jti: String,
    pub user_id: UserId,
    /// The login (refresh-token family) an access token belongs to: logout refuses it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_id: Option<Uuid>,
}

impl Claims {
    /// The `jti` as a UUID (refresh tokens are recorded under it).
    pub fn jti_uuid(&self) -> Option<Uuid> {
        Uuid::try_parse(&self.jti).ok()
    }
}

/// Why a token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    Expired,
    Invalid,
}

/// Keys and rules, built once at start-up.
pub struct Jwt {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl std::fmt::Debug for Jwt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Jwt { .. }")
    }
}

impl Jwt {
    /// Keys from the secret; only HS256 is ever accepted (no `alg: none`, no RSA confusion).
    pub fn new(secret: &[u8]) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.validate_exp = true;
        validation.set_required_spec_claims(&["exp", "iat"]);
        Jwt {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
        }
    }

    /// Signs a token of `kind` for `user_id`, valid for `lifetime`. Returns it with its expiry.
    pub fn issue(
        &self,
        kind: TokenType,
        user_id: UserId,
        jti: Uuid,
        lifetime: Duration,
    ) -> anyhow::Result<(String, DateTime<Utc>)> {
        self.issue_in_family(kind, user_id, jti, None, lifetime)
    }

    /// `issue`, naming the login the token belongs to.
    pub fn issue_in_family(
        &self,
        kind: TokenType,
        user_id: UserId,
        jti: Uuid,
        family_id: Option<Uuid>,
        lifetime: Duration,
    ) -> anyhow::Result<(String, DateTime<Utc>)> {
        let now = Utc::now();
        let expires = now + chrono::Duration::from_std(lifetime)?;
        let claims = Claims {
            token_type: kind.as_str().to_owned(),
            exp: expires.timestamp(),
            iat: now.timestamp_micros() as f64 / 1e6,
            jti: jti.simple().to_string(),
            user_id,
            family_id,
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)?;
        Ok((token, expires))
    }

    /// Verifies signature, algorithm, expiry and type.
    pub fn verify(&self, token: &str, kind: TokenType) -> Result<Claims, Rejection> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => Rejection::Expired,
                _ => Rejection::Invalid,
            })?;
        if data.claims.token_type != kind.as_str() {
            return Err(Rejection::Invalid);
        }
        Ok(data.claims)
    }

    /// `verify` of a request's access token, once per request: the throttle middleware and the
    /// auth extractor both need it, so the first caller leaves the result in the extensions.
    pub fn verify_access(
        &self,
        req: &actix_web::HttpRequest,
        token: &str,
    ) -> Result<Claims, Rejection> {
        if let Some(VerifiedAccess(done)) = req.extensions().get::<VerifiedAccess>() {
            return done.clone();
        }
        let result = self.verify(token, TokenType::Access);
        req.extensions_mut().insert(VerifiedAccess(result.clone()));
        result
    }
}

/// The outcome of verifying a request's access token (see [`Jwt::verify_access`]).
#[derive(Clone)]
struct VerifiedAccess(Result<Claims, Rejection>);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_wrong_types_keys_or_algorithms_fail() {
        let jwt = Jwt::new(b"k1-k1-k1-k1-k1-k1-k1-k1-k1-k1-k1-k1");
        let user = UserId::new_v4();
        let (t, _) = jwt
            .issue(
                TokenType::Access,
                user,
                Uuid::new_v4(),
                Duration::from_secs(60),
            )
            .unwrap();
        assert_eq!(jwt.verify(&t, TokenType::Access).unwrap().user_id, user);
        assert_eq!(
            jwt.verify(&t, TokenType::Refresh).unwrap_err(),
            Rejection::Invalid
        );
        let other = Jwt::new(b"k2-k2-k2-k2-k2-k2-k2-k2-k2-k2-k2-k2");
        assert_eq!(
            other.verify(&t, TokenType::Access).unwrap_err(),
            Rejection::Invalid
        );
        // alg: none with the same claims.
        let payload = t.split('.').nth(1).unwrap();
        let none = format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{payload}.");
        assert_eq!(
            jwt.verify(&none, TokenType::Access).unwrap_err(),
            Rejection::Invalid
        );
        let (old, _) = jwt
            .issue(TokenType::Access, user, Uuid::new_v4(), Duration::ZERO)
            .unwrap();
        std::thread::sleep(Duration::from_millis(1100));
        assert_eq!(
            jwt.verify(&old, TokenType::Access).unwrap_err(),
            Rejection::Expired
        );
    }
}
