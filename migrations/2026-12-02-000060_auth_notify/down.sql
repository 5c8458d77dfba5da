DROP TRIGGER refresh_tokens_revoked ON refresh_tokens;
DROP TRIGGER users_auth_deleted ON users;
DROP TRIGGER users_auth_changed ON users;
DROP FUNCTION biologidex_notify_auth();
