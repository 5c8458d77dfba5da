DROP TABLE refresh_tokens;
DROP TABLE user_profiles;
DROP TABLE users;
